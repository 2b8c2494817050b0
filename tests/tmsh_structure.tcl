# Parses a tmsh merge file with Tcl's own parser (bigip.conf is brace and quote compatible with
# Tcl): cuts it into top-level statements with `info complete`, checks that each one is a proper
# Tcl list whose last word is a braced block, and that an `ltm rule` body is a complete Tcl script.
# Prints one Tcl list per statement: STMT LINE HEADER_WORDS, or ERR LINE MESSAGE.
#
# Usage: tclsh tmsh_structure.tcl FILE
set f [open [lindex $argv 0] r]
fconfigure $f -encoding utf-8
set text [read $f]
close $f
set cmd ""
set start 0
set n 0
foreach line [split $text "\n"] {
    incr n
    if {$cmd eq ""} {
        if {[string trim $line] eq "" || [string index [string trimleft $line] 0] eq "#"} { continue }
        set start $n
    }
    append cmd $line "\n"
    if {![info complete $cmd]} { continue }
    if {![string is list $cmd]} {
        puts [list ERR $start "not a Tcl list"]
    } elseif {[llength $cmd] < 4} {
        puts [list ERR $start "a statement needs MODULE TYPE... PATH {BODY}: $cmd"]
    } else {
        set header [lrange $cmd 0 end-1]
        set body [lindex $cmd end]
        if {[lrange $header 0 1] eq {ltm rule}} {
            if {![info complete $body]} { puts [list ERR $start "rule body is not a complete script"] }
        } elseif {![string is list $body]} {
            puts [list ERR $start "body is not a list"]
        }
        puts [list STMT $start $header]
    }
    set cmd ""
}
if {[string trim $cmd] ne ""} { puts [list ERR $start "incomplete statement (unbalanced braces or quotes)"] }
