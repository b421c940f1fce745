complete -c pfctl -s f -d 'Ruleset file to read; `-` reads standard input' -r
complete -c pfctl -s o -d 'Ruleset optimization level: none or basic. pfd prints and loads rules in the order written; basic is accepted and reported' -r
complete -c pfctl -s D -d 'Define a macro, overriding the file\'s definition' -r
complete -c pfctl -s a -d 'The anchor -s and -T work on (offline: load into it)' -r
complete -c pfctl -s s -d 'Show what the running pfd holds: rules, labels, states, Sources, info, Tables, Interfaces, timeouts, memory, Anchors, osfp, all' -r
complete -c pfctl -s R -d 'Only this rule number (-s rules, labels) or its states (-s states)' -r
complete -c pfctl -s i -d 'Only states bound to this interface (-s states, -k)' -r
complete -c pfctl -s t -d 'The table `-T` works on' -r
complete -c pfctl -s T -d 'Table command: show, add, delete, replace, flush, test, zero, expire (the addresses or seconds follow), kill' -r
complete -c pfctl -s F -d 'Flush: rules, states, Sources, info, Tables or all' -r
complete -c pfctl -s k -d 'Kill the states from this host or network (a second -k: to this one)' -r
complete -c pfctl -s x -d 'Set pf\'s debug level: emerg, alert, crit, error, warning, notice, info or debug (any unambiguous prefix)' -r
complete -c pfctl -s K -d 'Kill the source-tracking nodes of this host or network' -r
complete -c pfctl -l control -d 'The running pfd\'s control socket (default $PFD_CONTROL, else /run/pfd.sock)' -r
complete -c pfctl -l completions -d 'Print a shell completion script for pfctl (bash, zsh, fish, elvish, powershell) on stdout and exit' -r -f -a "bash\t''
elvish\t''
fish\t''
powershell\t''
zsh\t''"
complete -c pfctl -s n -d 'Do not load the rules into pfd, only parse them'
complete -c pfctl -s v -d 'Print the parsed ruleset; repeat for more detail'
complete -c pfctl -s e -d 'Enable pf in the running pfd'
complete -c pfctl -s d -d 'Disable pf in the running pfd: it routes without filtering'
complete -c pfctl -s z -d 'Clear the per-rule counters (after showing them, with -s)'
complete -c pfctl -l json -d 'Print the answer as JSON instead of pfctl\'s text'
complete -c pfctl -s h -l help -d 'Print help'
complete -c pfctl -s V -l version -d 'Print version'
