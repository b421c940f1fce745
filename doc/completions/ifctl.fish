complete -c ifctl -s g -d 'Work on interface group GROUP: show its carp demote counter, or change it with carpdemote N / -carpdemote N' -r
complete -c ifctl -l control -d 'The running pfd\'s control socket (default $PFD_CONTROL, else /run/pfd.sock)' -r
complete -c ifctl -l completions -d 'Print a shell completion script for ifctl (bash, zsh, fish, elvish, powershell) on stdout and exit' -r -f -a "bash\t''
elvish\t''
fish\t''
powershell\t''
zsh\t''"
complete -c ifctl -s s -d 'Protocol statistics (netstat -s): `-s carp` or `-s pfsync`; `-ss` leaves out the counters at zero'
complete -c ifctl -l json -d 'Print the answer as JSON instead of ifconfig\'s text'
complete -c ifctl -s h -l help -d 'Print help'
complete -c ifctl -s V -l version -d 'Print version'
