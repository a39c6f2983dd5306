package functions

import (
	"github.com/jjsql/jjsql/proto/ssh"
	"github.com/jjsql/jjsql/schema"
)

// The SSH functions read a KEXINIT from a blob: the start of a stream
// (banner lines, then binary packets), one binary packet or a bare KEXINIT
// payload. A blob without a complete KEXINIT gives NULL.
func sshFuncs() []Func {
	return []Func{
		{"hassh", "HASSH (MD5 hex) of the client algorithms of a KEXINIT in a blob; NULL if none", kexFunc((*ssh.KexInit).HASSH)},
		{"hassh_server", "HASSH-server (MD5 hex) of the server algorithms of a KEXINIT in a blob; NULL if none", kexFunc((*ssh.KexInit).HASSHServer)},
	}
}

func kexFunc(f func(*ssh.KexInit) string) func(schema.Value) schema.Value {
	return func(v schema.Value) schema.Value {
		b, ok := bytesOf(v)
		if !ok {
			return schema.NullV()
		}
		k, ok := ssh.FindKexInit(b)
		if !ok {
			return schema.NullV()
		}
		if h := f(&k); h != "" {
			return schema.TextV(h)
		}
		return schema.NullV()
	}
}
