module github.com/jjsql/jjsql

go 1.26.8

require (
	github.com/gopacket/gopacket v1.7.7 // indirect
	github.com/jedib0t/go-pretty/v6 v6.8.3 // indirect
	github.com/mattn/go-sqlite3 v1.14.53 // indirect
	github.com/spf13/pflag v1.1.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)
