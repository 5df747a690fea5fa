# bash completion for execguard(1)
_execguard()
{
	local cur prev words cword
	_init_completion || return

	local verbs="run check lint rules shell-init cache log doctor status"
	if ((cword == 1)); then
		COMPREPLY=($(compgen -W "$verbs --help --version" -- "$cur"))
		return
	fi

	local verb=${words[1]} i
	case $verb in
	run)
		# after `run [--]` comes a command line of its own
		for ((i = 2; i < cword; i++)); do
			[[ ${words[i]} == -- ]] && { _command_offset $((i + 1)); return; }
			[[ ${words[i]} != -* ]] && { _command_offset $i; return; }
		done
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "-- --help" -- "$cur"))
		else
			_command_offset $cword
		fi
		;;
	check)
		case $prev in
		-f) _filedir rules; return ;;
		-C) _filedir -d; return ;;
		-c) return ;;
		esac
		for ((i = 2; i < cword; i++)); do
			case ${words[i]} in
			-f | -C | -c) ((i++)) ;;
			--) _command_offset $((i + 1)); return ;;
			-*) ;;
			*) _command_offset $i; return ;;
			esac
		done
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "-c -f -C -q -- --help" -- "$cur"))
		else
			_command_offset $cword
		fi
		;;
	lint)
		[[ $cur == -* ]] && COMPREPLY=($(compgen -W "--help" -- "$cur")) || _filedir rules
		;;
	shell-init)
		((cword == 2)) && COMPREPLY=($(compgen -W "bash zsh fish" -- "$cur"))
		;;
	log)
		case $prev in
		--since | -n) return ;;
		esac
		COMPREPLY=($(compgen -W "--since -n --json --help" -- "$cur"))
		;;
	cache)
		COMPREPLY=($(compgen -W "--check --help" -- "$cur"))
		;;
	doctor | status | rules)
		COMPREPLY=($(compgen -W "--help" -- "$cur"))
		;;
	esac
} &&
	complete -F _execguard execguard
