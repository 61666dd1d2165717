package messages

import "testing"

// typicalInputs are what most messages look like: short answers, a number,
// a label, a sentence of free text.
func typicalInputs() []string {
	return []string{
		"نعم", "لا شكرا", "ما بدي رسائل", "2", "التاني", "بياناتي", "مش موافق", "yes please", "إلغاء", "👍",
		"جمعية الشبان المسيحية للتنمية المجتمعية في بيت لحم", "نعم بس بدي اسأل عن الحملة اللي بتصير يوم السبت",
	}
}

func BenchmarkUnderstand(b *testing.B) {
	inputs := typicalInputs()
	theLexicon()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		Understand(inputs[i%len(inputs)])
	}
}

func BenchmarkChoose(b *testing.B) {
	inputs := typicalInputs()
	labels := []string{"📣 الحملات", "🔗 ادعُ الآخرين", "🔒 بياناتي", "🌐 English", "🔕 إيقاف الرسائل", "🏛️ تسجيل مؤسسة", "❓ مساعدة"}
	theLexicon()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		Choose(inputs[i%len(inputs)], labels)
	}
}
