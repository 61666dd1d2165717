package messages

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// role is what a lexicon word does in a message, beyond its readings.
type role uint8

const (
	roleConcept  role = iota // carries readings: نعم، إيقاف، الحملات
	roleNeg                  // negates the next concept: ما، مش، not, don't
	roleNo                   // لا, no: "no" on its own, or a negator right before a word that takes it (fLaNeg)
	rolePolite               // ignored: لو سمحت، شكرا، please
	roleFiller               // ignored, and transparent to negation: انا، هاد، the
	roleVocative             // يا: an address when an unknown word follows (يا عمي)
	roleQuestion             // شو، what: a question; alone, a request for help
	roleMarker               // رقم، الخيار، option: introduces a number
	rolePrep                 // من, from: only between a stop or cancel verb and what it leaves
)

// flag refines how a word combines with its neighbours.
type flag uint16

const (
	// fCarrier words (بدي، بفضّل، ارجع) yield to the concept that follows
	// them, passing their negation on: «ما بدي رسائل» negates the messages,
	// «ارجع للقائمة» is the menu. With nothing after them they say their own.
	fCarrier flag = 1 << iota
	// fWeak readings (تمام، ok، greetings) give way to any other reading:
	// «ok cancel» cancels, «مرحبا، نعم» says yes.
	fWeak
	// fLaNeg words are negated by a لا or "no" right before them, as in
	// Standard Arabic and English: «لا أريد»، «لا مانع»، «لا تبعتولي»، "no problem".
	// Before other words لا is a "no" of its own, so «لا بدي» is no and yes.
	fLaNeg
	// fVerb words take a glued ما and the colloquial ش suffix: «مابدي»، «بديش».
	fVerb
	// fClitic words take a proclitic: «بالعربي»، «للقائمة»، «وشكرا».
	fClitic
	// fTopic words name the messages themselves: with any refusal in the
	// message (no, cancel, enough, a negated want) the whole message is a stop.
	fTopic
	// fObject words name the screen or process a stop or cancel verb acts
	// on («سكّر القائمة»، «شيلوني من القائمة»، «الغاء العملية»).
	fObject
	// fHelpTopic words make a question a question about using the bot
	// («شو بقدر اعمل؟»، "how does this work").
	fHelpTopic
	// fOrdinal marks «التاني», "second": a "one" right after it is a pronoun.
	fOrdinal
	// fOne marks «واحد», "one".
	fOne
	// fDeterminer marks «اي»: "any" before a word, "yes" on its own.
	fDeterminer
	// fQuit marks «بطّل», «بطّلت»: before a verb it means "no longer".
	fQuit
	// fNoFuzzy keeps a word from being matched with a typo.
	fNoFuzzy
	// fIgnorable words may surround an option's label without changing
	// which option is meant: «بدي بياناتي»، «الخيار الثاني».
	fIgnorable
)

// entry is the meaning of one word or phrase of the lexicon.
type entry struct {
	role     role
	pos, neg Intent // readings as said, and when negated
	flags    flag
	lang     string // IntentLanguage: Arabic or English
	num      int    // IntentNumber: 1-based, or LastOption
}

func (e *entry) has(f flag) bool { return e.flags&f != 0 }

// group is a set of spellings that mean the same, written as people type
// them (hamza, ة, diacritics and all); buildLexicon normalises them.
type group struct {
	e     entry
	words string // phrases separated by "|"
}

// lexiconGroups is what the words people type mean, in Standard Arabic,
// Palestinian colloquial, Arabizi and English. Readings say what a word
// can answer; the step decides which reading it asks for (Meaning.First).
func lexiconGroups() []group {
	yes, no := IntentYes, IntentNo
	stop, cancel, done, skip := IntentStop, IntentCancel, IntentDone, IntentSkip
	return []group{
		// ---- yes and no
		{entry{pos: yes}, "نعم|أجل|بلى|آه|اه|أه|اها|أيوه|ايوه|أيوا|ايوا|إيوه|أيوة|إيه|ايه|يس|حاضر|بالتأكيد|بكل تأكيد|بكل سرور|من عيوني|على راسي|" +
			"يا ريت|ياريت|ليش لا|ليش لأ|ليش لاء|لم لا|ولا يهمك|خلص ماشي|خلص تمام|خلاص ماشي|خلاص تمام|خلص اوكي|" +
			"yes|yeah|yea|yep|yup|yas|y|why not|sure thing|" +
			"aywa|aiwa|aywah|ah|aah|ee|na3am|naam|akeed|akid|tab3an|🙆|🤝"},
		// words of certainty are a yes on their own, and make any other
		// answer firmer: «أكيد لا», "of course not" are a no
		{entry{pos: yes, flags: fClitic | fWeak}, "أكيد|اكيد|طبعا|طبعاً|متأكد|متاكد|متأكدة|sure|of course|ofc|definitely|absolutely|certainly"},
		{entry{pos: yes | done}, "تم|🆗"},
		{entry{pos: yes, flags: fWeak}, "👍|👌|منيح|منيحة|كويس|كويسة|حلو|good|great|perfect|cool|nice"},
		{entry{pos: yes | done, flags: fWeak}, "✅|✔|☑|✓"},
		{entry{pos: yes, neg: no, flags: fWeak}, "تمام|تمام التمام|ماشي|ماشي الحال|طيب|اوكي|أوكي|اوك|أوك|اوكيه|يلا|يالله|يللا|" +
			"ok|okay|okey|k|alright|all right|fine|tamam|mashi|tayeb"},
		{entry{pos: yes, neg: no, flags: fVerb | fLaNeg}, "موافق|موافقه|موافقة|موافقين|موافقا|موافقون|اوافق|أوافق|بوافق|منوافق|وافقت|نوافق|" +
			"agree|agreed|mwafe2|mwafeq|muwafiq|mwaf2"},
		// Standard Arabic verbs of wanting take لا («لا أريد»); the colloquial
		// ones take ما، مش and ش, so «لا بدي» is a no followed by a yes.
		// Negated, wanting refuses what is on offer: no to a question, and
		// leaving the step where nothing was asked («ما بدي» in a wizard).
		{entry{pos: yes, neg: no | cancel, flags: fVerb | fLaNeg | fCarrier | fIgnorable}, "اريد|أريد|نريد|أحب|احب|ارغب|أرغب|نرغب|أود|اود|need"},
		{entry{pos: yes, neg: no | cancel, flags: fVerb | fCarrier | fIgnorable}, "بدي|بدّي|بدنا|بدك|بدكم|بدكو|بريد|عايز|عايزه|عاوز|حابب|حابه|حابة|حاب|بحب|نحب|بود|" +
			"محتاج|محتاجه|محتاجة|بحتاج|want|wanna|would like|i'd like|like|bdi|biddi|badi|baddi|bidi"},
		// preferring, speaking, finding better: they lead to what is
		// preferred and say nothing alone («بفضل العربي», «بحكي عربي», «العربي أحسن»)
		{entry{flags: fVerb | fCarrier | fIgnorable}, "بفضل|بفضّل|أفضل|افضل|prefer|بحكي|احكي|بتكلم|اتكلم|speak|talk|أحسن|احسن|better|best|أسهل|اسهل|easier"},
		{entry{pos: yes, neg: no, flags: fVerb | fLaNeg}, "مهتم|مهتمه|مهتمة|interested"},
		{entry{pos: yes, neg: cancel, flags: fVerb | fLaNeg}, "أكمل|اكمل|نكمل|كمل|كمّل|استمر|نستمر|continue|go on|keep going|carry on"},
		{entry{pos: no, neg: yes, flags: fLaNeg}, "مانع|مانعه|مشكلة|مشكله|مشاكل|بأس|باس|اعتراض|problem|problems|objection|issue|worries"},
		{entry{pos: no, neg: yes, flags: fVerb | fLaNeg}, "mind|أرفض|ارفض|برفض|رافض|رافضه|رافضة|نرفض|refuse|decline|disagree"},
		{entry{pos: no | skip}, "ولا اشي|ولا إشي|ولا شي|ولا شيء|لا شيء|لاشي|بدون|none|nothing|nada|مره تانيه|مرة ثانية|مرة تانية|another time"},
		// «أبدًا» (never) and «ابدأ» (start) are one word once hamza and
		// tanween are folded: no to a question, a greeting elsewhere.
		{entry{pos: no | IntentGreeting}, "أبدا|ابدا|أبداً|ابداً|ابدأ"},
		{entry{pos: no}, "لاء|كلا|مستحيل|نو|nope|nah|nay|never|no way|no thanks|no thank you|la2|la2a|n|👎"},
		{entry{role: roleNo}, "لا|لأ|no|la"},
		{entry{role: roleNeg}, "ما|مش|مو|مب|مانيش|لست|لسنا|ليس|لن|غير|mish|mesh|mush|mosh|ma|not|don't|dont|do not|doesn't|doesnt|didn't|didnt|won't|wont|no longer|not anymore"},
		{entry{pos: 0, neg: no | skip, flags: fVerb | fLaNeg | fCarrier}, "عندي|عندنا|عنا|لدي|لدينا|في|فيه|يوجد|هناك|there is|there's"},
		{entry{pos: 0, neg: skip | no, flags: fLaNeg}, "ضروري|ضرورية|مهم|مهمة|necessary|required|needed|important"},
		{entry{pos: 0, neg: 0, flags: fVerb | fLaNeg}, "بعرف|عارف|عارفه|عارفة|اعرف|أعرف|know"},
		{entry{pos: 0, neg: IntentHelp, flags: fVerb | fLaNeg}, "فاهم|فاهمه|فاهمة|فهمت|فهمان|بفهم|افهم|أفهم|واضح|واضحة|understand|understood|get it|clear"},

		// ---- stop all messages, cancel this step, enough
		{entry{pos: stop, flags: fClitic}, "إيقاف|ايقاف|أوقف|اوقف|وقف|وقّف|وقفوا|وقفو|أوقفوا|اوقفوا|اوقفو|ستوب|شيلوني|شيلني|احذفوني|" +
			"stop|stopall|stop all|unsubscribe|opt out|optout|remove me|wa2ef|wa2if|wa2fo|🛑|🔕"},
		{entry{pos: stop, flags: fLaNeg}, "توقف|توقّف|توقفوا|توقفو|تتوقف|تتوقفوا|يتوقف"},
		{entry{pos: stop, flags: fQuit}, "بطل|بطّل|بطلوا|بطلو|بطّلوا"},
		{entry{pos: cancel, flags: fQuit}, "بطلت|بطّلت|بطلنا"},
		{entry{pos: cancel, flags: fClitic}, "إلغاء|الغاء|الغي|ألغي|الغيه|الغيها|نلغي|الغ|لغي|cancel|exit|quit|خروج|اخرج|أخرج|اطلع|طلعني|طلعنا|" +
			"انسى|انسي|انسا|انساها|forget it|forget about it|never mind|nevermind|nvm|غيرت رايي|غيرت رأيي|غيرت رايي|changed my mind|" +
			"سكر|سكّر|سكرها|close|ilgha2|elgha2"},
		{entry{pos: cancel | done}, "end"},
		{entry{pos: skip | cancel | no}, "بلاش|blash|balash"},
		{entry{pos: no | cancel}, "❌|✖|✕|✗|❎|🚫|⛔"},
		{entry{pos: done | cancel}, "خلص|خلاص|بس|كفى|كفايه|كفاية|بكفي|يكفي|enough|5alas|khalas|bas"},
		{entry{pos: done, neg: 0, flags: fVerb}, "انتهيت|انتهينا|خلصت|خلصنا|انتهى|done|finished|finish|that's all|thats all|that's it|thats it|all done|" +
			"هيك بكفي|بس هيك|بكفي هيك|هاد كل اشي|هاد كل شي|هذا كل شيء|هيك تمام"},

		// ---- the messages themselves: a refusal that names them is a stop
		{entry{pos: 0, neg: stop, flags: fLaNeg | fClitic | fTopic}, "رسائل|رسايل|رساله|رسالة|رسائلكم|رسايلكم|مسجات|اشعارات|إشعارات|تنبيهات|اشتراك|" +
			"messages|message|msgs|texts|notifications|subscription"},
		{entry{pos: 0, neg: stop, flags: fLaNeg | fVerb | fTopic}, "تبعتولي|تبعتلي|تبعتوا|تبعتو|تبعت|تبعتولنا|ابعتولي|ابعتلي|ابعتها|ابعت|ترسلوا|ترسلو|ترسل|" +
			"ترسلولي|ارسال|إرسال|ارسل|أرسل|تراسلوني|توصلني|يوصلني|توصلني|send|sending|sent|texting|contact"},

		// ---- skip, now, help
		{entry{pos: skip}, "تخطي|تخطى|تخط|تخطيها|تجاوز|تجاوزه|التالي|اللي بعده|skip|pass|next|⏭|⏩"},
		{entry{pos: skip | no}, "بعدين|لاحقا|لاحقاً|فيما بعد|later|بعدين بشوف"},
		{entry{pos: IntentNow, neg: no | skip}, "باسرع وقت|بأسرع وقت|باسرع وقت ممكن|بأسرع وقت ممكن|asap|as soon as possible|الان|الآن|هلق|هلاء|هسا|هسع|هسه|حالا|حالاً|فورا|فوراً|now|right now|halla2|hala2|hassa"},
		{entry{pos: IntentNow | IntentGreeting, neg: no | skip, flags: fWeak}, "هلا"},
		{entry{pos: 0, neg: no | skip}, "اليوم|today|هالمرة|هالمره|this time|حاليا|حالياً|currently|for now"},
		{entry{pos: IntentHelp, flags: fClitic}, "مساعدة|مساعده|ساعدني|ساعدوني|ساعدنا|help|help me|sos|🆘|❓|❔"},
		{entry{pos: IntentHelp, flags: fClitic | fHelpTopic}, "الأوامر|الاوامر|أوامر|اوامر|الخيارات|خيارات|commands|command|options"},
		{entry{role: roleQuestion, pos: IntentHelp}, "شو|ايش|إيش|شنو|وشو|what|how|كيف|ازاي|huh|wtf"},
		{entry{flags: fHelpTopic | fCarrier}, "ممكن|بصير|يصير|اعمل|بعمل|نعمل|اسوي|بسوي|do|does|بقدر|اقدر|أقدر|بنقدر|can|could|لازم|should|must|" +
			"بشتغل|يشتغل|تشتغل|بتشتغل|work|works|استخدم|بستخدم|use|يعني|mean|means|قصدك|قصدكم|بتقصد|تقصد|المطلوب|مطلوب"},

		// ---- back, menu, greetings
		{entry{pos: IntentBack, flags: fCarrier | fClitic}, "رجوع|ارجع|إرجع|رجعني|رجّعني|رجعنا|ارجعني|back|go back|previous|السابق|السابقة|السابقه|الخلف|لورا|ورا|🔙|↩"},
		{entry{pos: IntentMenu, flags: fClitic | fObject}, "القائمة|القائمه|قائمة|قائمه|القائمة الرئيسية|القائمه الرئيسيه|الرئيسية|الرئيسيه|الصفحة الرئيسية|" +
			"menu|main menu|home|المنيو|منيو|🏠|🏡"},
		// a pleasantry alone greets; beside an answer it is politeness
		{entry{pos: IntentGreeting, flags: fWeak | fIgnorable}, "كيفك|كيفكم|كيف حالك|كيف الحال|شلونك|how are you|how r u|سلامات|" +
			"يعطيك العافية|يعطيكم العافية|الله يعطيك العافية|يعطيك الف عافية"},
		// the start: a greeting, or going back to the menu («رجعني للبداية»)
		{entry{pos: IntentGreeting | IntentMenu, flags: fWeak | fClitic}, "بداية|بدايه|start over|من الاول|من الأول|من البداية"},
		{entry{pos: IntentGreeting, flags: fWeak | fIgnorable}, "مرحبا|مرحباً|مرحبه|مرحبتين|مراحب|اهلا|أهلا|أهلاً|أهلين|اهلين|اهلا وسهلا|أهلا وسهلا|هاي|يا هلا|" +
			"السلام عليكم|سلام عليكم|السلام|سلام|صباح الخير|صباحو|صباح النور|مسا الخير|مساء الخير|مسا النور|مساء النور|يلا نبدا|يلا نبدأ|" +
			"salam alaikum|salam alaykum|assalamu alaikum|assalamualaikum|salamu alaikum|hi|hello|hey|hiya|yo|good morning|good evening|good afternoon|start|نبدأ|نبدا|" +
			"marhaba|mar7aba|marhaban|ahlan|ahleen|salam|slm|👋|🙋"},

		// ---- languages
		{entry{pos: IntentLanguage, lang: Arabic, flags: fClitic}, "عربي|العربي|عربية|العربية|عربيه|العربيه|اللغة العربية|اللغه العربيه|ع|" +
			"ar|ara|arabic|arab|arabi|3arabi|3arabiya|arabiya"},
		{entry{pos: IntentLanguage, lang: English, flags: fClitic}, "انجليزي|إنجليزي|الانجليزي|الإنجليزي|انجليزية|إنجليزية|الانجليزية|الإنجليزية|انجليزيه|الانجليزيه|" +
			"انكليزي|الانكليزي|انكليزية|الانكليزية|انقليزي|الانقليزي|انجلش|انجليش|انقلش|انكلش|انجلزي|اللغة الانجليزية|اللغة الإنجليزية|" +
			"en|eng|engl|english|inglizi|engilizi|ingilizi|englizi|inglish|e"},

		// ---- words around an answer that do not change it
		{entry{role: rolePolite, flags: fClitic | fIgnorable}, "لو سمحت|لو سمحتي|لو سمحتو|لو سمحتوا|من فضلك|من فضلكم|فضلا|فضلاً|رجاء|رجاءً|الله يخليك|الله يخليكم|بليز|" +
			"please|pls|plz|plse|pleas|thanks|thank you|thx|thanku|ty|شكرا|شكراً|مشكور|مشكوره|مشكورة|مشكورين|يسلمو|يسلموا|يسلمك|تسلم|تسلمي|" +
			"ورحمة الله|ورحمة الله وبركاته|وبركاته|" +
			"ارجو|أرجو|نرجو|يرجى|بترجاك|what's up|whats up|إن شاء الله|ان شاء الله|انشالله|إنشالله|انشاءالله|الحمد لله|الحمدلله|shukran|shokran|merci|mersi|🙏|❤|🌹|😊|🙂|😀|😁"},
		{entry{role: roleFiller, flags: fIgnorable}, "أنا|انا|احنا|إحنا|i|i'm|im|me|we|us|you|انت|إنت|انتي|it|this|that|هاد|هادا|هذا|هذه|هيك|عم|رح|راح|will|would|" +
			"just|really|بجد|والله|wallah|wallahi|و|and|so|more|any|anymore|anything|again|كمان|بعد|بعد اليوم|من اليوم ورايح|اشي|إشي|شي|شيء|حاجة|" +
			"الي|إلي|لي|الي|إلى|الى|منكم|منك|مني|عليكم|عليك|ان|أن|to|the|a|an|of|for|on|at|is|are|am|be|in|" +
			"ذلك|تلك|هادي|هديك|هداك|there|عاد|عدت|عدنا|جدا|جداً|كتير|كثير|تماما|تماماً|بالمرة|very|totally|completely|fully|" +
			"لغة|اللغة|باللغة|language|lang|شباب|يا شباب|جماعة|يا جماعة|guys|everyone|all|team"},
		// the process or question at hand: «الغاء العملية», «تجاوز السؤال»; a
		// stop said of it leaves it («وقف التسجيل») rather than the messages
		{entry{role: roleFiller, flags: fIgnorable | fObject}, "الموضوع|العملية|العمليه|التسجيل|الطلب|الخطوة|الخطوه|خطوة|السؤال|سؤال|question"},
		{entry{role: roleVocative}, "يا"},
		{entry{role: roleVocative, pos: yes}, "ya"},
		{entry{role: rolePrep}, "من|from|عن"},
		{entry{role: roleConcept, pos: yes, flags: fDeterminer}, "اي|أي|إي"},
		{entry{role: roleMarker, flags: fIgnorable}, "رقم|الرقم|خيار|الخيار|اختيار|الاختيار|بختار|اختار|أختار|اخترت|بختار رقم|option|number|num|choice|choose|pick|i choose|i pick"},

		// ---- numbers and ordinals
		{entry{pos: IntentNumber, num: 1, flags: fOne}, "واحد|وحده|وحدة|واحده|واحدة|one|wa7ad|wahad|wa7de"},
		{entry{pos: IntentNumber, num: 2}, "اثنين|اثنان|إثنين|اتنين|تنين|ثنتين|تنتين|two|itnen|tnen|etnen|tnein"},
		{entry{pos: IntentNumber, num: 3}, "ثلاثة|ثلاثه|ثلاث|تلاتة|تلاته|تلات|three|tlateh|tlate|talateh"},
		{entry{pos: IntentNumber, num: 4}, "أربعة|اربعة|اربعه|أربع|اربع|four|arba3a|arba3"},
		{entry{pos: IntentNumber, num: 5}, "خمسة|خمسه|خمس|five|5amse|khamse"},
		{entry{pos: IntentNumber, num: 6}, "ستة|سته|ست|six|sitte"},
		{entry{pos: IntentNumber, num: 7}, "سبعة|سبعه|سبع|seven|sab3a"},
		{entry{pos: IntentNumber, num: 8}, "ثمانية|ثمانيه|تمانية|تمانيه|ثماني|ثمان|تمن|eight|tamanye"},
		{entry{pos: IntentNumber, num: 9}, "تسعة|تسعه|تسع|nine|tis3a"},
		{entry{pos: IntentNumber, num: 10}, "عشرة|عشره|عشر|ten|3ashra|🔟"},
		{entry{pos: IntentNumber, num: 1, flags: fOrdinal}, "الأول|الاول|أول|اول|الأولى|الاولى|أولى|اولى|first|1st|awal|awwal"},
		{entry{pos: IntentNumber, num: 2, flags: fOrdinal}, "الثاني|ثاني|التاني|تاني|الثانية|الثانيه|التانية|التانيه|ثانية|ثانيه|تانية|تانيه|second|2nd|tani|el tani"},
		{entry{pos: IntentNumber, num: 3, flags: fOrdinal}, "الثالث|ثالث|التالت|تالت|الثالثة|الثالثه|التالتة|التالته|third|3rd|talet"},
		{entry{pos: IntentNumber, num: 4, flags: fOrdinal}, "الرابع|رابع|الرابعة|الرابعه|fourth|4th"},
		{entry{pos: IntentNumber, num: 5, flags: fOrdinal}, "الخامس|خامس|الخامسة|الخامسه|fifth|5th"},
		{entry{pos: IntentNumber, num: 6, flags: fOrdinal}, "السادس|سادس|السادسة|السادسه|sixth|6th"},
		{entry{pos: IntentNumber, num: 7, flags: fOrdinal}, "السابع|سابع|السابعة|السابعه|seventh|7th"},
		{entry{pos: IntentNumber, num: 8, flags: fOrdinal}, "الثامن|ثامن|التامن|تامن|الثامنة|الثامنه|eighth|8th"},
		{entry{pos: IntentNumber, num: 9, flags: fOrdinal}, "التاسع|تاسع|التاسعة|التاسعه|ninth|9th"},
		{entry{pos: IntentNumber, num: 10, flags: fOrdinal}, "العاشر|عاشر|العاشرة|العاشره|tenth|10th"},
		{entry{pos: IntentNumber, num: LastOption, flags: fOrdinal}, "الأخير|الاخير|الأخيرة|الاخيرة|الاخيره|آخر واحد|اخر واحد|آخر وحدة|اخر وحده|last|last one"},
	}
}

// arabicFlags and englishFlags are the countries whose flag, sent as an
// answer to the language question, names Arabic or English: the members of
// the Arab League, and the countries where English is the main language.
func arabicFlags() []string {
	return []string{"PS", "JO", "EG", "LB", "SY", "IQ", "SA", "AE", "KW", "QA", "BH", "OM", "YE", "SD", "LY", "TN", "DZ", "MA", "MR", "SO", "DJ", "KM"}
}

func englishFlags() []string { return []string{"GB", "US", "AU", "NZ", "IE", "CA", "UM"} }

// maxPhraseWords is the longest phrase of the lexicon, in words.
const maxPhraseWords = 5

// lexicon is the index Understand reads: every normalised phrase with its
// meaning, and the fallbacks for words typed with repeated letters or one
// typo. It is built once and never written afterwards.
type lexicon struct {
	phrases  map[string][]phrase // by first word, longest first
	words    map[string]*entry   // one-word phrases
	known    map[string]bool     // every word of every phrase
	squeezed map[string]string   // squeeze(word) → word; "" when two words of different meaning share it
	fuzzy    map[string][]string // a word, and each of its one-letter deletions → the words it comes from
	clitics  [][2]string
	// arabicFlag and englishFlag are what a flag emoji of a country
	// speaking that language means.
	arabicFlag, englishFlag entry
}

type phrase struct {
	words []string
	e     *entry
}

var theLexicon = sync.OnceValue(func() *lexicon {
	lx, err := buildLexicon(lexiconGroups())
	if err != nil {
		panic(err) // static data; TestLexicon reports the same error
	}
	return lx
})

func buildLexicon(groups []group) (*lexicon, error) {
	lx := &lexicon{
		phrases: map[string][]phrase{}, words: map[string]*entry{}, known: map[string]bool{},
		squeezed: map[string]string{}, fuzzy: map[string][]string{}, clitics: clitics(),
		arabicFlag:  entry{pos: IntentLanguage, lang: Arabic},
		englishFlag: entry{pos: IntentLanguage, lang: English},
	}
	seen := map[string]*entry{}
	var errs []error
	for gi := range groups {
		e := &groups[gi].e
		for _, p := range strings.Split(groups[gi].words, "|") {
			words := strings.Fields(Normalize(p))
			if len(words) == 0 || len(words) > maxPhraseWords {
				errs = append(errs, fmt.Errorf("lexicon phrase %q: %d words", p, len(words)))
				continue
			}
			key := strings.Join(words, " ")
			if prev, ok := seen[key]; ok {
				if *prev != *e {
					errs = append(errs, fmt.Errorf("lexicon phrase %q (%s) has two meanings", p, key))
				}
				continue
			}
			seen[key] = e
			lx.phrases[words[0]] = append(lx.phrases[words[0]], phrase{words: words, e: e})
			for _, w := range words {
				lx.known[w] = true
			}
			if len(words) == 1 {
				lx.words[key] = e
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	for w := range lx.phrases {
		slices.SortStableFunc(lx.phrases[w], func(a, b phrase) int { return len(b.words) - len(a.words) })
	}
	for w := range lx.known {
		sq := squeeze(w)
		prev, ok := lx.squeezed[sq]
		switch {
		case !ok:
			lx.squeezed[sq] = w
		case prev != "" && lx.words[prev] != lx.words[w]:
			lx.squeezed[sq] = "" // two meanings: do not guess
		}
	}
	for w, e := range lx.words {
		if !fuzzyCandidate(w, e) {
			continue
		}
		lx.fuzzy[w] = append(lx.fuzzy[w], w)
		for _, d := range deletions(w) {
			lx.fuzzy[d] = append(lx.fuzzy[d], w)
		}
	}
	for k := range lx.fuzzy {
		slices.Sort(lx.fuzzy[k])
		lx.fuzzy[k] = slices.Compact(lx.fuzzy[k])
	}
	return lx, nil
}

// minFuzzyLetters is the shortest word matched with a typo: in shorter
// words one letter is too often the whole difference between two words.
const minFuzzyLetters = 5

// minFuzzyStopLetters is the same for words that stop all messages, whose
// misreading costs the most: «اوقاف» (endowments) is one letter from «ايقاف».
const minFuzzyStopLetters = 8

func fuzzyCandidate(w string, e *entry) bool {
	n := letterCount(w)
	switch {
	case e.has(fNoFuzzy) || hasDigit(w) || n < minFuzzyLetters:
		return false
	case e.role != roleConcept && e.role != roleQuestion:
		return false
	case (e.pos|e.neg)&IntentStop != 0 && n < minFuzzyStopLetters:
		return false
	}
	return true
}

// lookupFuzzy finds the one lexicon word within one typo of w, if exactly
// one meaning is that close.
func (lx *lexicon) lookupFuzzy(w string) (string, bool) {
	if letterCount(w) < minFuzzyLetters || hasDigit(w) {
		return "", false
	}
	var found string
	var meaning *entry
	try := func(k string) bool {
		for _, c := range lx.fuzzy[k] {
			if !withinOneEdit(w, c) {
				continue
			}
			if meaning != nil && lx.words[c] != meaning {
				return false
			}
			found, meaning = c, lx.words[c]
		}
		return true
	}
	if !try(w) {
		return "", false
	}
	for _, d := range deletions(w) {
		if !try(d) {
			return "", false
		}
	}
	return found, meaning != nil
}
