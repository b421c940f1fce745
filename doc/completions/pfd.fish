# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_pfd_global_optspecs
    string join \n h/help V/version
end

function __fish_pfd_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_pfd_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_pfd_using_subcommand
    set -l cmd (__fish_pfd_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c pfd -n "__fish_pfd_needs_command" -s h -l help -d 'Print help'
complete -c pfd -n "__fish_pfd_needs_command" -s V -l version -d 'Print version'
complete -c pfd -n "__fish_pfd_needs_command" -f -a "run" -d 'Run the firewall: boot from an etc directory (as `pfd check --interfaces` checks it), take over its interfaces and filter and route until SIGTERM or SIGINT'
complete -c pfd -n "__fish_pfd_needs_command" -f -a "check" -d 'Check an etc directory (hostname.if files, mygate, sysctl.conf, pf.conf) as `pfd run --etc DIR` reads it, without touching any interface: every error as FILE:LINE: message, exit status 1'
complete -c pfd -n "__fish_pfd_needs_command" -f -a "replay" -d 'Run a ruleset over a capture and write each packet\'s verdict'
complete -c pfd -n "__fish_pfd_needs_command" -f -a "completions" -d 'Print a shell completion script for pfd on stdout (bash: save as /usr/share/bash-completion/completions/pfd; zsh: _pfd in $fpath; fish: ~/.config/fish/completions/pfd.fish)'
complete -c pfd -n "__fish_pfd_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pfd -n "__fish_pfd_using_subcommand run" -l etc -d 'The directory holding hostname.<if>, mygate, sysctl.conf and pf.conf' -r
complete -c pfd -n "__fish_pfd_using_subcommand run" -l control -d 'The control socket (default $PFD_CONTROL, else /run/pfd.sock)' -r
complete -c pfd -n "__fish_pfd_using_subcommand run" -l workers -d 'Worker threads; each has a port on every interface and the kernel spreads flows over them (PACKET_FANOUT_HASH)' -r
complete -c pfd -n "__fish_pfd_using_subcommand run" -l cpus -d 'Pin worker i to the i-th CPU of this list (`1,3` or `2-5`); workers past its end are not pinned' -r
complete -c pfd -n "__fish_pfd_using_subcommand run" -l busy-poll-us -d 'Microseconds a worker keeps polling after the last frame before it sleeps in poll(2) (0: sleep at once)' -r
complete -c pfd -n "__fish_pfd_using_subcommand run" -l idle-max-ms -d 'The longest sleep of an idle worker, in milliseconds, before it looks again (0: never sleep; it spins on its core)' -r
complete -c pfd -n "__fish_pfd_using_subcommand run" -l log -d 'What to log: a level (error, warn, info, debug, trace, off) or RUST_LOG-style directives by target, e.g. `warn,pfd::carp=info` (targets: pfd, pfd::carp, pfd::pfsync, pfd::control)' -r
complete -c pfd -n "__fish_pfd_using_subcommand run" -l log-format -d 'Log lines as text (no colours unless stderr is a terminal; no timestamps and a syslog <N> prefix when stderr is the journal) or as one JSON object per line (timestamp, level, target, message)' -r -f -a "text\t'`[TIME] LEVEL target: message`, one line per event'
json\t'One JSON object per line: `timestamp`, `level`, `target`, `message` and the event\'s other fields'"
complete -c pfd -n "__fish_pfd_using_subcommand run" -l metrics -d 'Serve Prometheus metrics on ADDR:PORT (`GET /metrics`; off unless given), in pfd\'s network namespace: rule, label, state, drop-reason, interface, CARP and pfsync counters, the figures pfctl -si/-vsr/-sl and ifctl -s carp/pfsync show' -r
complete -c pfd -n "__fish_pfd_using_subcommand run" -l pflog -d 'Write the packets `log` rules log to this file as pflogd does (pcap, DLT_PFLOG; appended to), or to a FIFO a live `tcpdump -n -e -r FIFO` reads. Without it they are not written anywhere; their rules still count them' -r -F
complete -c pfd -n "__fish_pfd_using_subcommand run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pfd -n "__fish_pfd_using_subcommand check" -l etc -d 'The directory holding hostname.<if>, mygate, sysctl.conf and pf.conf' -r
complete -c pfd -n "__fish_pfd_using_subcommand check" -l interfaces -d 'Also require every interface named by a hostname.<if> file (carpN aside) to exist on this machine'
complete -c pfd -n "__fish_pfd_using_subcommand check" -s h -l help -d 'Print help'
complete -c pfd -n "__fish_pfd_using_subcommand replay" -l rules -d 'pf.conf to load (refused, with pfctl\'s errors, if invalid)' -r
complete -c pfd -n "__fish_pfd_using_subcommand replay" -l pcap -d 'Capture to replay (pcap; Ethernet or raw IP)' -r
complete -c pfd -n "__fish_pfd_using_subcommand replay" -l if -d 'Name of the interface the capture was taken on, as pf.conf names it (`pass in on NAME`)' -r
complete -c pfd -n "__fish_pfd_using_subcommand replay" -l if-addr -d 'An address of that interface (ADDR or ADDR/PREFIX), for rules on `(NAME)` and `NAME:network`; repeatable' -r
complete -c pfd -n "__fish_pfd_using_subcommand replay" -l group -d 'An interface group the interface is in besides its driver\'s (`egress`, or a hostname.if `group` line); repeatable' -r
complete -c pfd -n "__fish_pfd_using_subcommand replay" -l out -d 'Write the packets that pass, as they leave (translated), and the frames the firewall sends onward (synproxy), in order' -r
complete -c pfd -n "__fish_pfd_using_subcommand replay" -l verdicts -d 'Write one JSON verdict per packet' -r
complete -c pfd -n "__fish_pfd_using_subcommand replay" -l inbound-from -d 'Packets from this network are inbound; repeatable' -r
complete -c pfd -n "__fish_pfd_using_subcommand replay" -l mac -d 'Frames to this MAC (the firewall\'s) are inbound' -r
complete -c pfd -n "__fish_pfd_using_subcommand replay" -l pflog -d 'Write logged packets with pflog headers (DLT_PFLOG)' -r
complete -c pfd -n "__fish_pfd_using_subcommand replay" -l replies -d 'Write the frames sent back to a packet\'s sender (block return replies, synproxy\'s answers to the client)' -r
complete -c pfd -n "__fish_pfd_using_subcommand replay" -l summary -d 'Write rule, state and drop-reason counters (JSON) at the end' -r
complete -c pfd -n "__fish_pfd_using_subcommand replay" -l seed -d 'Seed of the random numbers (ports, probability), for a repeatable run' -r
complete -c pfd -n "__fish_pfd_using_subcommand replay" -s h -l help -d 'Print help'
complete -c pfd -n "__fish_pfd_using_subcommand completions" -s h -l help -d 'Print help'
complete -c pfd -n "__fish_pfd_using_subcommand help; and not __fish_seen_subcommand_from run check replay completions help" -f -a "run" -d 'Run the firewall: boot from an etc directory (as `pfd check --interfaces` checks it), take over its interfaces and filter and route until SIGTERM or SIGINT'
complete -c pfd -n "__fish_pfd_using_subcommand help; and not __fish_seen_subcommand_from run check replay completions help" -f -a "check" -d 'Check an etc directory (hostname.if files, mygate, sysctl.conf, pf.conf) as `pfd run --etc DIR` reads it, without touching any interface: every error as FILE:LINE: message, exit status 1'
complete -c pfd -n "__fish_pfd_using_subcommand help; and not __fish_seen_subcommand_from run check replay completions help" -f -a "replay" -d 'Run a ruleset over a capture and write each packet\'s verdict'
complete -c pfd -n "__fish_pfd_using_subcommand help; and not __fish_seen_subcommand_from run check replay completions help" -f -a "completions" -d 'Print a shell completion script for pfd on stdout (bash: save as /usr/share/bash-completion/completions/pfd; zsh: _pfd in $fpath; fish: ~/.config/fish/completions/pfd.fish)'
complete -c pfd -n "__fish_pfd_using_subcommand help; and not __fish_seen_subcommand_from run check replay completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
