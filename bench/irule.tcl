# Cost of a generated path-routing iRule per request, in plain tclsh, over hostile and ordinary
# paths up to 32 KB. A benchmark, not a test: it prints figures and judges nothing.
#
# Usage: tclsh bench/irule.tcl ?RULE_FILE? ?RUNS?
#   RULE_FILE  default golden/f5/irules/vs_sharepoint_routes.tcl (the reference site's rule)
#   RUNS       requests per path (default 200). Two figures: CPU time per request (user + system
#              time of this process from /proc/self/stat, in 10 ms ticks, over the RUNS requests:
#              what the rule costs, whatever else the machine runs) and the fastest wall-clock
#              time of one request
# For the rule before the linear decoder:
#   git show <commit>:golden/f5/irules/vs_sharepoint_routes.tcl > /tmp/old.tcl
#   tclsh bench/irule.tcl /tmp/old.tcl 3
#
# The iRule commands are stubbed as in tests/irule_harness.tcl (HTTP::path returns the path,
# URI::decode decodes %XX, pool records the choice); the rule's events run as compiled Tcl, as
# the harness runs them. One interpreter per path: a connection, CLIENT_ACCEPTED once, then the
# request RUNS times.

set here [file dirname [file normalize [info script]]]
set rule [expr {[llength $argv] > 0 ? [lindex $argv 0] : "$here/../golden/f5/irules/vs_sharepoint_routes.tcl"}]
set runs [expr {[llength $argv] > 1 ? [lindex $argv 1] : 200}]

# CPU seconds (user + system) used by this process so far (Linux: proc(5), fields 14 and 15 of
# /proc/self/stat, in clock ticks of 1/100 s on every mainstream kernel configuration).
proc cpu_seconds {} {
    set f [open /proc/self/stat r]
    set stat [read $f]
    close $f
    set fields [split [string range $stat [expr {[string last ")" $stat] + 2}] end] " "]
    return [expr {([lindex $fields 11] + [lindex $fields 12]) / 100.0}]
}

proc connection {rule} {
    set i [interp create]
    interp eval $i {
        namespace eval HTTP {}
        namespace eval URI {}
        namespace eval LB {}
        proc when {event args} { set ::__events($event) [lindex $args end] }
        proc HTTP::path {} { return $::__uri }
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
        proc LB::server {what} { return /Common/default }
        proc pool {name} { set ::__selected $name }
        proc call {name args} { uplevel 1 [list $name {*}$args] }
    }
    interp eval $i [list source $rule]
    interp eval $i {eval $::__events(CLIENT_ACCEPTED)}
    # The request body as one compiled procedure (the event's script, run once per request).
    interp eval $i {proc request {} [list uplevel #0 $::__events(HTTP_REQUEST)]}
    return $i
}

# A path of exactly $size bytes: "/" then $unit repeated (the last one cut short).
proc path_of {unit size} {
    set n [expr {$size / [string length $unit] + 1}]
    return "/[string range [string repeat $unit $n] 0 [expr {$size - 2}]]"
}

set units {
    {%u002e/}       {%u0041}         {%41}           {%2541}
    {%252541}       {%25252541}      {%2525252541}   {%252525252541}
    {a/../}         {./}             {/}             {%u002f..}
    {ects./}        {abcdefgh/}      {a/}            {%}
}
set sizes {1024 4000 4096 4097 8192 16384 32256 32768}
# 32256 bytes = 4608 x `%u002e/` (7 bytes): the issue's 31.5 KB case.

puts [format "%-14s %8s %10s %10s  %s" unit bytes "cpu us" "min us" pool]
set worst 0
set worst_at ""
foreach unit $units {
    foreach size $sizes {
        set p [path_of $unit $size]
        set i [connection $rule]
        interp eval $i [list set ::__uri $p]
        set times {}
        set cpu0 [cpu_seconds]
        for {set k 0} {$k < $runs} {incr k} {
            lappend times [lindex [interp eval $i {time request 1}] 0]
        }
        set us [expr {([cpu_seconds] - $cpu0) * 1e6 / $runs}]
        set fastest [tcl::mathfunc::min {*}$times]
        set chosen [interp eval $i {set ::__selected}]
        interp delete $i
        puts [format "%-14s %8d %10.1f %10.1f  %s" $unit [string length $p] $us $fastest $chosen]
        if {$us > $worst} {
            set worst $us
            set worst_at "$unit x [string length $p] bytes"
        }
    }
}
puts [format "worst: %.1f us of CPU per request (%s; %d requests per path), tclsh %s" $worst $worst_at $runs [info patchlevel]]
