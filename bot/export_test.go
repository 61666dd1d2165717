package bot

import "mobilise/store"

// PrivilegedCommands lists every command above citizen with its lowest
// role, so the role tests cover each one without a hand-kept list.
func PrivilegedCommands() map[string]store.Role {
	out := map[string]store.Role{}
	for _, c := range commands() {
		if c.role != store.RoleCitizen {
			out[c.name] = c.role
		}
	}
	return out
}
