# fish completion for execguard(1)
set -l verbs run check lint rules shell-init cache log doctor status

complete -c execguard -f
complete -c execguard -n "not __fish_seen_subcommand_from $verbs" -l help -d 'Show usage'
complete -c execguard -n "not __fish_seen_subcommand_from $verbs" -l version -d 'Show the version'
complete -c execguard -n "not __fish_seen_subcommand_from $verbs" -a run -d 'Run a command with the guard on'
complete -c execguard -n "not __fish_seen_subcommand_from $verbs" -a check -d 'Print the decision for a command, run nothing'
complete -c execguard -n "not __fish_seen_subcommand_from $verbs" -a lint -d 'Validate rule files and their examples'
complete -c execguard -n "not __fish_seen_subcommand_from $verbs" -a rules -d 'List the rules in effect'
complete -c execguard -n "not __fish_seen_subcommand_from $verbs" -a shell-init -d 'Print the snippet that guards a shell'
complete -c execguard -n "not __fish_seen_subcommand_from $verbs" -a cache -d 'Compile the rules for a library loaded without run'
complete -c execguard -n "not __fish_seen_subcommand_from $verbs" -a log -d 'Show the audit log'
complete -c execguard -n "not __fish_seen_subcommand_from $verbs" -a doctor -d 'Is the guard on, and what is in effect'
complete -c execguard -n "not __fish_seen_subcommand_from $verbs" -a status -d 'One line for a shell prompt'

# run and check take a command line of their own
complete -c execguard -n "__fish_seen_subcommand_from run check" -x -a '(__fish_complete_subcommand --fcs-skip=2)'
complete -c execguard -n "__fish_seen_subcommand_from check" -s c -x -d 'Check a shell command line'
complete -c execguard -n "__fish_seen_subcommand_from check" -s f -r -F -d 'Also load this rule file'
complete -c execguard -n "__fish_seen_subcommand_from check" -s C -x -a '(__fish_complete_directories)' -d 'Judge as if run in this directory'
complete -c execguard -n "__fish_seen_subcommand_from check" -s q -d 'Print nothing, only exit'
complete -c execguard -n "__fish_seen_subcommand_from lint" -F
complete -c execguard -n "__fish_seen_subcommand_from shell-init" -x -a 'bash zsh fish'
complete -c execguard -n "__fish_seen_subcommand_from cache" -l check -d 'Is a cache in use here, and why not'
complete -c execguard -n "__fish_seen_subcommand_from log" -l since -x -d 'Records from this age or date on'
complete -c execguard -n "__fish_seen_subcommand_from log" -s n -x -d 'Only the last N records'
complete -c execguard -n "__fish_seen_subcommand_from log" -l json -d 'Print the records as stored'
