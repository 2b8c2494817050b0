# Tcl word syntax for validate.py's iRule (.tcl) and tmsh (.conf) checks, served by tclsh itself.
#
# Where a brace, quote or bracket group ends is decided by Tcl's own parser: the group is the
# shortest text from its opening character to a closing one that `info complete` calls complete
# (so backslashes, braces inside quotes, quotes inside braces, nested [commands] and comments are
# read exactly as Tcl reads them). What remains is the dodekalogue's plain splitting rules: words
# end at blanks, commands at newlines and `;`, `#` starts a comment where a command may start,
# `$name` / `${name}` / `$name(index)` are variables.
#
# Protocol (stdin/stdout, UTF-8, one request per line, one JSON answer per line):
#   load N               the next N characters of stdin are the text (answer {})
#   script I END CLOSE   the commands of text[I,END); CLOSE is `]` to stop at an unmatched `]`, or -
#   list I END           text[I,END) as a Tcl list (newlines are plain separators)
#   word I END MODE      one word at I; MODE cmd (`;` ends it), list, or expr (no check after a
#                        close-brace or close-quote)
#   subst J END          the [command] or $variable substitution at J, if any
# Answer: {"r": RESULT, "next": OFFSET, "errors": [[OFFSET, MESSAGE]...], "comments": [[S, E]...]}.
# A command is a list of words, a word {"k": brace|quote|bare, "s", "e", "cs", "ce", "subs"}
# (content span cs..ce without the braces or quotes), a substitution ["cmd", S, E, COMMANDS] or
# ["var", S, E]. Offsets are character indices into the text.

fconfigure stdin -encoding utf-8 -translation lf
fconfigure stdout -encoding utf-8 -translation lf -buffering line

set T ""
set ERR {}
set COM {}

proc blank {c} {
    expr {$c eq " " || $c eq "\t" || $c eq "\v" || $c eq "\f" || $c eq "\r"}
}

# The offset after the group that opens at $i and ends with $closer, or -1 when no closer before
# $end completes it (Tcl's `info complete` decides).
proc close_of {i end closer} {
    global T
    set j [expr {$i + 1}]
    while 1 {
        set j [string first $closer $T $j]
        if {$j < 0 || $j >= $end} { return -1 }
        if {[info complete [string range $T $i $j]]} { return [expr {$j + 1}] }
        incr j
    }
}

proc err {offset msg} {
    global ERR
    lappend ERR "\[$offset,\"$msg\"\]"
}

proc wjson {kind s e cs ce subs} {
    return "\{\"k\":\"$kind\",\"s\":$s,\"e\":$e,\"cs\":$cs,\"ce\":$ce,\"subs\":\[[join $subs ,]\]\}"
}

# Commands of T[i,end), stopping at an unmatched $close (`]`, or "" for none): {json next}.
proc script {i end close} {
    global T COM
    set cmds {}
    while 1 {
        while {$i < $end} {
            set c [string index $T $i]
            if {[blank $c] || $c eq "\n" || $c eq ";"} { incr i; continue }
            if {$c eq "\\" && [string index $T $i+1] eq "\n"} { incr i 2; continue }
            break
        }
        if {$i >= $end || ($close ne "" && [string index $T $i] eq $close)} {
            return [list "\[[join $cmds ,]\]" $i]
        }
        if {[string index $T $i] eq "#"} {
            set j $i
            while {$j < $end && [string index $T $j] ne "\n"} {
                incr j [expr {[string index $T $j] eq "\\" ? 2 : 1}]
            }
            lappend COM "\[$i,[expr {min($j, $end)}]\]"
            set i $j
            continue
        }
        set words {}
        while 1 {
            while {$i < $end} {
                set c [string index $T $i]
                if {[blank $c]} { incr i; continue }
                if {$c eq "\\" && [string index $T $i+1] eq "\n"} { incr i 2; continue }
                break
            }
            if {$i >= $end} break
            set c [string index $T $i]
            if {$c eq "\n" || $c eq ";" || ($close ne "" && $c eq $close)} break
            lassign [word $i $end $close cmd] w i
            lappend words $w
        }
        if {[llength $words]} { lappend cmds "\[[join $words ,]\]" }
    }
}

# T[i,end) as a list: json.
proc list_words {i end} {
    global T
    set words {}
    while 1 {
        while {$i < $end && ([blank [string index $T $i]] || [string index $T $i] eq "\n")} {
            incr i
        }
        if {$i >= $end} { return "\[[join $words ,]\]" }
        lassign [word $i $end "" list] w i
        lappend words $w
    }
}

# After a close-brace or close-quote at $j - 1: only a blank, the end of the command or of the
# enclosing [command] may follow.
proc after_close {j end close what mode} {
    global T
    if {$mode eq "expr" || $j >= $end} return
    set c [string index $T $j]
    if {[blank $c] || $c eq "\n" || ($mode eq "cmd" && $c eq ";") || ($close ne "" && $c eq $close)} {
        return
    }
    err $j "extra characters after close-$what"
}

# One word at T[i]: {json next}.
proc word {i end close mode} {
    global T
    if {[string range $T $i $i+2] eq "\{*\}" && $i + 3 < $end} {
        set c [string index $T $i+3]
        if {![blank $c] && $c ne "\n" && $c ne ";"} { incr i 3 }
    }
    set c [string index $T $i]
    if {$c eq "\{"} {
        set j [close_of $i $end "\}"]
        if {$j < 0} {
            err $i "missing close-brace"
            return [list [wjson brace $i $end [expr {$i + 1}] $end {}] $end]
        }
        after_close $j $end $close brace $mode
        return [list [wjson brace $i $j [expr {$i + 1}] [expr {$j - 1}] {}] $j]
    }
    if {$c eq "\""} {
        set j [close_of $i $end "\""]
        set stop [expr {$j < 0 ? $end : $j - 1}]
        set subs {}
        set k [expr {$i + 1}]
        while {$k < $stop} {
            if {[string index $T $k] eq "\\"} { incr k 2; continue }
            set k [subst_at $k $stop subs]
        }
        if {$j < 0} {
            err $i "missing close-quote"
            return [list [wjson quote $i $end [expr {$i + 1}] $end $subs] $end]
        }
        after_close $j $end $close quote $mode
        return [list [wjson quote $i $j [expr {$i + 1}] [expr {$j - 1}] $subs] $j]
    }
    set subs {}
    set j $i
    while {$j < $end} {
        set ch [string index $T $j]
        if {[blank $ch] || $ch eq "\n" || ($ch eq ";" && $mode eq "cmd") || ($close ne "" && $ch eq $close)} {
            break
        }
        if {$ch eq "\\"} {
            if {[string index $T $j+1] eq "\n"} break
            incr j 2
            continue
        }
        set j [subst_at $j $end subs]
    }
    set j [expr {min($j, $end)}]
    return [list [wjson bare $i $j $i $j $subs] $j]
}

# At T[j]: record a [command] or $variable substitution in subs and return the offset after it,
# or j + 1 for an ordinary character.
proc subst_at {j end subsVar} {
    upvar 1 $subsVar subs
    global T
    set c [string index $T $j]
    if {$c eq "\["} {
        set k [close_of $j $end "\]"]
        if {$k < 0} {
            err $j "missing close-bracket"
            lassign [script [expr {$j + 1}] $end "\]"] cmds
            lappend subs "\[\"cmd\",$j,$end,$cmds\]"
            return $end
        }
        lassign [script [expr {$j + 1}] [expr {$k - 1}] ""] cmds
        lappend subs "\[\"cmd\",$j,$k,$cmds\]"
        return $k
    }
    if {$c ne "\$"} { return [expr {$j + 1}] }
    set k [expr {$j + 1}]
    if {$k < $end && [string index $T $k] eq "\{"} {
        set cl [string first "\}" $T $k]
        set k [expr {$cl < 0 || $cl >= $end ? $end : $cl + 1}]
    } else {
        # `$name`, `$ns::name`, and `$(index)`: an element of the array named ""
        while {$k < $end} {
            if {[string match {[A-Za-z0-9_]} [string index $T $k]]} {
                incr k
            } elseif {$k + 1 < $end && [string range $T $k $k+1] eq "::"} {
                incr k 2
            } else {
                break
            }
        }
        set paren [expr {$k < $end && [string index $T $k] eq "("}]
        if {$k == $j + 1 && !$paren} { return [expr {$j + 1}] } ;# a lone $ is literal
        if {$paren} {
            # array element: the index is substituted
            set inner {}
            while {$k < $end && [string index $T $k] ne ")"} {
                if {[string index $T $k] eq "\\"} {
                    incr k 2
                } else {
                    set k [subst_at $k $end inner]
                }
            }
            set k [expr {min($k + 1, $end)}]
            foreach s $inner {
                if {[string match {\["cmd"*} $s]} { lappend subs $s }
            }
        }
    }
    lappend subs "\[\"var\",$j,$k\]"
    return $k
}

while {[gets stdin line] >= 0} {
    set ERR {}
    set COM {}
    set rest [lassign $line op]
    switch -- $op {
        load {
            set T [read stdin [lindex $rest 0]]
            puts "{}"
            continue
        }
        script {
            lassign $rest i end close
            lassign [script $i $end [expr {$close eq "-" ? "" : $close}]] r next
        }
        list {
            lassign $rest i end
            set r [list_words $i $end]
            set next $end
        }
        word {
            lassign $rest i end mode
            lassign [word $i $end "" $mode] r next
        }
        subst {
            lassign $rest j end
            set subs {}
            set next [subst_at $j $end subs]
            set r "\[[join $subs ,]\]"
        }
        default {
            puts stderr "tcl_scan: unknown request $op"
            exit 2
        }
    }
    puts "{\"r\":$r,\"next\":$next,\"errors\":\[[join $ERR ,]\],\"comments\":\[[join $COM ,]\]}"
}
