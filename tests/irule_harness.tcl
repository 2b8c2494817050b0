# Executes generated iRules in plain tclsh with stubs for the iRule commands they use, and checks
# the pool chosen for every request of every simulated client connection.
#
# Usage: tclsh irule_harness.tcl CASES_FILE
# Each line of CASES_FILE is a Tcl list:
#   LABEL RULE_FILE DEFAULT_POOL {{URI EXPECTED_POOL} {URI EXPECTED_POOL} ...}
# One line is one client connection: CLIENT_ACCEPTED runs once, then HTTP_REQUEST once per request,
# in the same interpreter (iRule variables live as long as the connection, like here).
# Output: "ok LABEL" or "FAIL LABEL: why" per line, then "done PASSED FAILED". Exit 0 iff all passed.

proc new_connection {rule_file default_pool} {
    set i [interp create]
    interp eval $i {
        namespace eval HTTP {}
        namespace eval URI {}
        namespace eval LB {}
        array set ::__events {}
        set ::__selected {}
        set ::__uri /
        # when EVENT ?priority N? BODY
        proc when {event args} {
            if {[info exists ::__events($event)]} {
                error "event $event defined twice"
            }
            set ::__events($event) [lindex $args end]
        }
        proc HTTP::uri {} { return $::__uri }
        # The path is the URI without the query string.
        proc HTTP::path {} {
            set q [string first "?" $::__uri]
            if {$q < 0} { return $::__uri }
            return [string range $::__uri 0 [expr {$q - 1}]]
        }
        # Percent-decoding as BIG-IP's URI::decode: %XX becomes the byte, anything else stays.
        proc URI::decode {s} {
            set out ""
            set n [string length $s]
            for {set k 0} {$k < $n} {incr k} {
                set c [string index $s $k]
                set hex [string range $s [expr {$k + 1}] [expr {$k + 2}]]
                if {$c eq "%" && [string length $hex] == 2 && [string is xdigit -strict $hex]} {
                    append out [format %c [scan $hex %x]]
                    incr k 2
                } else {
                    append out $c
                }
            }
            return $out
        }
        proc LB::server {what} {
            if {$what ne "pool"} { error "LB::server $what is not stubbed" }
            return $::__current_pool
        }
        # `call NAME ARGS`: runs a proc of the same iRule (F5 iRules reference, `call`; BIG-IP 11.4+).
        proc call {name args} { uplevel 1 [list $name {*}$args] }
        proc pool {name args} {
            if {[llength $args]} { error "pool with member selection is not expected" }
            lappend ::__selected $name
            # A selected pool stays selected for the rest of the connection.
            set ::__current_pool $name
        }
    }
    interp eval $i [list set ::__current_pool $default_pool]
    interp eval $i [list source $rule_file]
    return $i
}

set passed 0
set failed 0
set f [open [lindex $argv 0] r]
fconfigure $f -encoding utf-8
while {[gets $f line] >= 0} {
    if {[string trim $line] eq ""} { continue }
    lassign $line label rule_file default_pool requests
    set why ""
    if {[catch {
        set i [new_connection $rule_file $default_pool]
        foreach ev {CLIENT_ACCEPTED HTTP_REQUEST} {
            if {![interp eval $i [list info exists ::__events($ev)]]} { error "no $ev event" }
        }
        interp eval $i {eval $::__events(CLIENT_ACCEPTED)}
        set n 0
        foreach req $requests {
            lassign $req uri expected
            incr n
            interp eval $i [list set ::__uri $uri]
            interp eval $i {set ::__selected {}}
            interp eval $i {eval $::__events(HTTP_REQUEST)}
            set got [interp eval $i {set ::__selected}]
            if {[llength $got] != 1} {
                append why "request $n `$uri`: selected [llength $got] pools ($got), expected exactly one; "
            } elseif {$got ne $expected} {
                append why "request $n `$uri`: pool $got, expected $expected; "
            }
        }
        interp delete $i
    } err]} {
        append why "error: $err"
    }
    if {$why eq ""} {
        puts "ok $label"
        incr passed
    } else {
        puts "FAIL $label: $why"
        incr failed
    }
}
close $f
puts "done $passed $failed"
exit [expr {$failed > 0}]
