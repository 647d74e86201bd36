function __airlock_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __airlock_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __airlock_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __airlock_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __airlock_parse_tokens -S
    set -l unparsed_tokens (__airlock_tokens -pc)
    switch $unparsed_tokens[1]
    case 'airlock'
        __airlock_parse_subcommand 0 'h/help'
        switch $unparsed_tokens[1]
        case 'validate'
            __airlock_parse_subcommand 0 'p/pipeline=' 'f/file=' 'ledger=' 'json' 'no-color' 'h/help'
        case 'plan'
            __airlock_parse_subcommand 1 'p/pipeline=' 'f/file=' 'ledger=' 'json' 'no-color' 'release=' 'rollback' 'to=' 'h/help'
        case 'deploy'
            __airlock_parse_subcommand 1 'p/pipeline=' 'f/file=' 'ledger=' 'json' 'no-color' 'wait=' 'artifact=' 'version=' 'force' 'h/help'
        case 'promote'
            __airlock_parse_subcommand 1 'p/pipeline=' 'f/file=' 'ledger=' 'json' 'no-color' 'wait=' 'release=' 'force' 'h/help'
        case 'rollback'
            __airlock_parse_subcommand 1 'p/pipeline=' 'f/file=' 'ledger=' 'json' 'no-color' 'wait=' 'to=' 'force' 'h/help'
        case 'verify'
            __airlock_parse_subcommand 1 'p/pipeline=' 'f/file=' 'ledger=' 'json' 'no-color' 'wait=' 'h/help'
        case 'history'
            __airlock_parse_subcommand 1 'p/pipeline=' 'f/file=' 'ledger=' 'json' 'no-color' 'limit=' 'h/help'
        case 'status'
            __airlock_parse_subcommand 0 'p/pipeline=' 'f/file=' 'ledger=' 'json' 'no-color' 'h/help'
        case 'drift'
            __airlock_parse_subcommand 2 'p/pipeline=' 'f/file=' 'ledger=' 'json' 'no-color' 'h/help'
        case 'releases'
            __airlock_parse_subcommand 1 'p/pipeline=' 'f/file=' 'ledger=' 'json' 'no-color' 'h/help'
        case 'show'
            __airlock_parse_subcommand 1 'p/pipeline=' 'f/file=' 'ledger=' 'json' 'no-color' 'h/help'
        case 'diff'
            __airlock_parse_subcommand 2 'p/pipeline=' 'f/file=' 'ledger=' 'json' 'no-color' 'h/help'
        case 'lock'
            __airlock_parse_subcommand 1 'p/pipeline=' 'f/file=' 'ledger=' 'json' 'no-color' 'wait=' 'reason=' 'h/help'
        case 'unlock'
            __airlock_parse_subcommand 1 'p/pipeline=' 'f/file=' 'ledger=' 'json' 'no-color' 'force' 'h/help'
        case 'approve'
            __airlock_parse_subcommand 1 'p/pipeline=' 'f/file=' 'ledger=' 'json' 'no-color' 'wait=' 'release=' 'h/help'
        case 'ledger'
            __airlock_parse_subcommand 0 'h/help'
            switch $unparsed_tokens[1]
            case 'gc'
                __airlock_parse_subcommand 0 'p/pipeline=' 'f/file=' 'ledger=' 'json' 'no-color' 'h/help'
            end
        case 'init'
            __airlock_parse_subcommand 0 'json' 'h/help'
        case 'version'
            __airlock_parse_subcommand 0 'json' 'h/help'
        case 'help'
            __airlock_parse_subcommand -r 1 
        end
    end
end

function __airlock_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __airlock_parse_subcommand -S -a positional_count
    argparse -s r -- $argv
    set -l option_specs $argv[2..]
    set -l is_repeating_positional $_flag_r
    set -el _flag_r
    set -a commands $unparsed_tokens[1]
    set positional_index 0
    while true
        set -e unparsed_tokens[1]
        argparse -sn "$commands" $option_specs -- $unparsed_tokens 2> /dev/null
        set unparsed_tokens $argv
        set positional_index (math $positional_index + 1)
        for non_repeating_flag_or_option in $non_repeating_flags_or_options
            if set -ql "_flag_$(string replace -a - _ -- $non_repeating_flag_or_option)"
                set non_repeating_flags_or_options_absent 1
                break
            end
        end
        test (count $unparsed_tokens) -eq 0 -o \( -z "$is_repeating_positional" -a "$positional_index" -gt "$positional_count" \) && break
    end
end

function __airlock_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __airlock_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__airlock_tokens -p)
    if test -z "$(__airlock_tokens -t)"
        set -l index (count (__airlock_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'airlock' -f
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_positional "airlock" -eq 1' -fa 'validate' -d 'Parse and check every pipeline in pipelines/ (or -f FILE) and report every error; nothing runs.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_positional "airlock" -eq 1' -fa 'plan' -d 'Show what deploy, promote or rollback would do to ENV; nothing changes.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_positional "airlock" -eq 1' -fa 'deploy' -d 'Record DIR as a new release and ship it to ENV (an environment without `requires`).'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_positional "airlock" -eq 1' -fa 'promote' -d 'Ship the newest release verified in ENV\'s `requires` environment (or --release) to ENV.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_positional "airlock" -eq 1' -fa 'rollback' -d 'Switch ENV back to the previous verified-good release (or --to), with the config it was good with.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_positional "airlock" -eq 1' -fa 'verify' -d 'Run ENV\'s verify checks against what runs there now and record the verdict (never rolls back).'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_positional "airlock" -eq 1' -fa 'history' -d 'List events, newest first.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_positional "airlock" -eq 1' -fa 'status' -d 'Show what runs where, per environment.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_positional "airlock" -eq 1' -fa 'drift' -d 'Show config and release differences between two environments; nothing changes.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_positional "airlock" -eq 1' -fa 'releases' -d 'List every release ENV has run, newest first: current, verified, quarantined, rollback target.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_positional "airlock" -eq 1' -fa 'show' -d 'Show one ledger event: release, outcome, why, every check and probe, config changes.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_positional "airlock" -eq 1' -fa 'diff' -d 'Show the files and config that differ between two releases; nothing changes.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_positional "airlock" -eq 1' -fa 'lock' -d 'Hold an incident lock on ENV until `airlock unlock ENV`: every change to ENV answers exit 6 meanwhile.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_positional "airlock" -eq 1' -fa 'unlock' -d 'End an incident lock on ENV; --force breaks someone else\'s lock or a stuck run\'s lease (recorded).'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_positional "airlock" -eq 1' -fa 'approve' -d 'Approve a release for an environment with `approval: required`; binds to its artifact tree id.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_positional "airlock" -eq 1' -fa 'ledger' -d 'Look after the ledger repository.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_positional "airlock" -eq 1' -fa 'init' -d 'Write a starter project here: pipelines/app.yml, example hooks and an example artifact.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_positional "airlock" -eq 1' -fa 'version' -d 'Print Airlock\'s version.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_positional "airlock" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock validate" p pipeline' -s 'p' -l 'pipeline' -d 'The pipeline\'s name (default: the only one in pipelines/).' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock validate" f file' -s 'f' -l 'file' -d 'A pipeline file to use instead of pipelines/NAME.yml.' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock validate" ledger' -l 'ledger' -d 'The ledger repository (default: the pipeline\'s `ledger`, or AIRLOCK_LEDGER).' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock validate" json' -l 'json' -d 'Print one JSON document on stdout; progress still goes to stderr.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock validate" no-color' -l 'no-color' -d 'No colour in progress on a terminal (as with NO_COLOR set).'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock validate" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock plan" p pipeline' -s 'p' -l 'pipeline' -d 'The pipeline\'s name (default: the only one in pipelines/).' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock plan" f file' -s 'f' -l 'file' -d 'A pipeline file to use instead of pipelines/NAME.yml.' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock plan" ledger' -l 'ledger' -d 'The ledger repository (default: the pipeline\'s `ledger`, or AIRLOCK_LEDGER).' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock plan" json' -l 'json' -d 'Print one JSON document on stdout; progress still goes to stderr.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock plan" no-color' -l 'no-color' -d 'No colour in progress on a terminal (as with NO_COLOR set).'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_positional "airlock plan" -eq 1' -fka '(__airlock_custom_completion ---completion plan -- positional@0 (count (__airlock_tokens -pc)) (__airlock_tokens -tC))'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock plan" release' -l 'release' -d 'The release to plan for (default: what promote would pick).' -rfka '(__airlock_custom_completion ---completion plan -- --release (count (__airlock_tokens -pc)) (__airlock_tokens -tC))'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock plan" rollback' -l 'rollback' -d 'Plan `airlock rollback ENV` instead.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock plan" to' -l 'to' -d 'With --rollback: the release to roll back to.' -rfka '(__airlock_custom_completion ---completion plan -- --to (count (__airlock_tokens -pc)) (__airlock_tokens -tC))'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock plan" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock deploy" p pipeline' -s 'p' -l 'pipeline' -d 'The pipeline\'s name (default: the only one in pipelines/).' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock deploy" f file' -s 'f' -l 'file' -d 'A pipeline file to use instead of pipelines/NAME.yml.' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock deploy" ledger' -l 'ledger' -d 'The ledger repository (default: the pipeline\'s `ledger`, or AIRLOCK_LEDGER).' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock deploy" json' -l 'json' -d 'Print one JSON document on stdout; progress still goes to stderr.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock deploy" no-color' -l 'no-color' -d 'No colour in progress on a terminal (as with NO_COLOR set).'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock deploy" wait' -l 'wait' -d 'Wait up to DURATION (30s, 5m) for another run\'s lease on ENV instead of exit 6; never for an incident lock.' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_positional "airlock deploy" -eq 1' -fka '(__airlock_custom_completion ---completion deploy -- positional@0 (count (__airlock_tokens -pc)) (__airlock_tokens -tC))'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock deploy" artifact' -l 'artifact' -d 'The directory holding the release\'s files.' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock deploy" version' -l 'version' -d 'The version label (default: the first 12 hex digits of the artifact\'s tree id).' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock deploy" force' -l 'force' -d 'Ship the release even if it is quarantined in ENV.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock deploy" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock promote" p pipeline' -s 'p' -l 'pipeline' -d 'The pipeline\'s name (default: the only one in pipelines/).' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock promote" f file' -s 'f' -l 'file' -d 'A pipeline file to use instead of pipelines/NAME.yml.' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock promote" ledger' -l 'ledger' -d 'The ledger repository (default: the pipeline\'s `ledger`, or AIRLOCK_LEDGER).' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock promote" json' -l 'json' -d 'Print one JSON document on stdout; progress still goes to stderr.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock promote" no-color' -l 'no-color' -d 'No colour in progress on a terminal (as with NO_COLOR set).'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock promote" wait' -l 'wait' -d 'Wait up to DURATION (30s, 5m) for another run\'s lease on ENV instead of exit 6; never for an incident lock.' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_positional "airlock promote" -eq 1' -fka '(__airlock_custom_completion ---completion promote -- positional@0 (count (__airlock_tokens -pc)) (__airlock_tokens -tC))'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock promote" release' -l 'release' -d 'A release label or tree id prefix; it must be verified upstream.' -rfka '(__airlock_custom_completion ---completion promote -- --release (count (__airlock_tokens -pc)) (__airlock_tokens -tC))'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock promote" force' -l 'force' -d 'Promote the release even if it is quarantined in ENV.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock promote" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock rollback" p pipeline' -s 'p' -l 'pipeline' -d 'The pipeline\'s name (default: the only one in pipelines/).' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock rollback" f file' -s 'f' -l 'file' -d 'A pipeline file to use instead of pipelines/NAME.yml.' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock rollback" ledger' -l 'ledger' -d 'The ledger repository (default: the pipeline\'s `ledger`, or AIRLOCK_LEDGER).' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock rollback" json' -l 'json' -d 'Print one JSON document on stdout; progress still goes to stderr.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock rollback" no-color' -l 'no-color' -d 'No colour in progress on a terminal (as with NO_COLOR set).'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock rollback" wait' -l 'wait' -d 'Wait up to DURATION (30s, 5m) for another run\'s lease on ENV instead of exit 6; never for an incident lock.' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_positional "airlock rollback" -eq 1' -fka '(__airlock_custom_completion ---completion rollback -- positional@0 (count (__airlock_tokens -pc)) (__airlock_tokens -tC))'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock rollback" to' -l 'to' -d 'A release label or tree id prefix that was verified good in ENV.' -rfka '(__airlock_custom_completion ---completion rollback -- --to (count (__airlock_tokens -pc)) (__airlock_tokens -tC))'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock rollback" force' -l 'force' -d 'Allow --to to name a quarantined release.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock rollback" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock verify" p pipeline' -s 'p' -l 'pipeline' -d 'The pipeline\'s name (default: the only one in pipelines/).' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock verify" f file' -s 'f' -l 'file' -d 'A pipeline file to use instead of pipelines/NAME.yml.' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock verify" ledger' -l 'ledger' -d 'The ledger repository (default: the pipeline\'s `ledger`, or AIRLOCK_LEDGER).' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock verify" json' -l 'json' -d 'Print one JSON document on stdout; progress still goes to stderr.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock verify" no-color' -l 'no-color' -d 'No colour in progress on a terminal (as with NO_COLOR set).'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock verify" wait' -l 'wait' -d 'Wait up to DURATION (30s, 5m) for another run\'s lease on ENV instead of exit 6; never for an incident lock.' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_positional "airlock verify" -eq 1' -fka '(__airlock_custom_completion ---completion verify -- positional@0 (count (__airlock_tokens -pc)) (__airlock_tokens -tC))'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock verify" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock history" p pipeline' -s 'p' -l 'pipeline' -d 'The pipeline\'s name (default: the only one in pipelines/).' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock history" f file' -s 'f' -l 'file' -d 'A pipeline file to use instead of pipelines/NAME.yml.' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock history" ledger' -l 'ledger' -d 'The ledger repository (default: the pipeline\'s `ledger`, or AIRLOCK_LEDGER).' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock history" json' -l 'json' -d 'Print one JSON document on stdout; progress still goes to stderr.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock history" no-color' -l 'no-color' -d 'No colour in progress on a terminal (as with NO_COLOR set).'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_positional "airlock history" -eq 1' -fka '(__airlock_custom_completion ---completion history -- positional@0 (count (__airlock_tokens -pc)) (__airlock_tokens -tC))'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock history" limit' -l 'limit' -d 'How many events at most.' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock history" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock status" p pipeline' -s 'p' -l 'pipeline' -d 'The pipeline\'s name (default: the only one in pipelines/).' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock status" f file' -s 'f' -l 'file' -d 'A pipeline file to use instead of pipelines/NAME.yml.' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock status" ledger' -l 'ledger' -d 'The ledger repository (default: the pipeline\'s `ledger`, or AIRLOCK_LEDGER).' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock status" json' -l 'json' -d 'Print one JSON document on stdout; progress still goes to stderr.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock status" no-color' -l 'no-color' -d 'No colour in progress on a terminal (as with NO_COLOR set).'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock status" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock drift" p pipeline' -s 'p' -l 'pipeline' -d 'The pipeline\'s name (default: the only one in pipelines/).' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock drift" f file' -s 'f' -l 'file' -d 'A pipeline file to use instead of pipelines/NAME.yml.' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock drift" ledger' -l 'ledger' -d 'The ledger repository (default: the pipeline\'s `ledger`, or AIRLOCK_LEDGER).' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock drift" json' -l 'json' -d 'Print one JSON document on stdout; progress still goes to stderr.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock drift" no-color' -l 'no-color' -d 'No colour in progress on a terminal (as with NO_COLOR set).'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_positional "airlock drift" -eq 1' -fka '(__airlock_custom_completion ---completion drift -- positional@0 (count (__airlock_tokens -pc)) (__airlock_tokens -tC))'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_positional "airlock drift" -eq 2' -fka '(__airlock_custom_completion ---completion drift -- positional@1 (count (__airlock_tokens -pc)) (__airlock_tokens -tC))'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock drift" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock releases" p pipeline' -s 'p' -l 'pipeline' -d 'The pipeline\'s name (default: the only one in pipelines/).' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock releases" f file' -s 'f' -l 'file' -d 'A pipeline file to use instead of pipelines/NAME.yml.' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock releases" ledger' -l 'ledger' -d 'The ledger repository (default: the pipeline\'s `ledger`, or AIRLOCK_LEDGER).' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock releases" json' -l 'json' -d 'Print one JSON document on stdout; progress still goes to stderr.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock releases" no-color' -l 'no-color' -d 'No colour in progress on a terminal (as with NO_COLOR set).'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_positional "airlock releases" -eq 1' -fka '(__airlock_custom_completion ---completion releases -- positional@0 (count (__airlock_tokens -pc)) (__airlock_tokens -tC))'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock releases" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock show" p pipeline' -s 'p' -l 'pipeline' -d 'The pipeline\'s name (default: the only one in pipelines/).' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock show" f file' -s 'f' -l 'file' -d 'A pipeline file to use instead of pipelines/NAME.yml.' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock show" ledger' -l 'ledger' -d 'The ledger repository (default: the pipeline\'s `ledger`, or AIRLOCK_LEDGER).' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock show" json' -l 'json' -d 'Print one JSON document on stdout; progress still goes to stderr.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock show" no-color' -l 'no-color' -d 'No colour in progress on a terminal (as with NO_COLOR set).'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_positional "airlock show" -eq 1' -fka '(__airlock_custom_completion ---completion show -- positional@0 (count (__airlock_tokens -pc)) (__airlock_tokens -tC))'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock show" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock diff" p pipeline' -s 'p' -l 'pipeline' -d 'The pipeline\'s name (default: the only one in pipelines/).' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock diff" f file' -s 'f' -l 'file' -d 'A pipeline file to use instead of pipelines/NAME.yml.' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock diff" ledger' -l 'ledger' -d 'The ledger repository (default: the pipeline\'s `ledger`, or AIRLOCK_LEDGER).' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock diff" json' -l 'json' -d 'Print one JSON document on stdout; progress still goes to stderr.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock diff" no-color' -l 'no-color' -d 'No colour in progress on a terminal (as with NO_COLOR set).'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_positional "airlock diff" -eq 1' -fka '(__airlock_custom_completion ---completion diff -- positional@0 (count (__airlock_tokens -pc)) (__airlock_tokens -tC))'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_positional "airlock diff" -eq 2' -fka '(__airlock_custom_completion ---completion diff -- positional@1 (count (__airlock_tokens -pc)) (__airlock_tokens -tC))'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock diff" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock lock" p pipeline' -s 'p' -l 'pipeline' -d 'The pipeline\'s name (default: the only one in pipelines/).' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock lock" f file' -s 'f' -l 'file' -d 'A pipeline file to use instead of pipelines/NAME.yml.' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock lock" ledger' -l 'ledger' -d 'The ledger repository (default: the pipeline\'s `ledger`, or AIRLOCK_LEDGER).' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock lock" json' -l 'json' -d 'Print one JSON document on stdout; progress still goes to stderr.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock lock" no-color' -l 'no-color' -d 'No colour in progress on a terminal (as with NO_COLOR set).'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock lock" wait' -l 'wait' -d 'Wait up to DURATION (30s, 5m) for another run\'s lease on ENV instead of exit 6; never for an incident lock.' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_positional "airlock lock" -eq 1' -fka '(__airlock_custom_completion ---completion lock -- positional@0 (count (__airlock_tokens -pc)) (__airlock_tokens -tC))'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock lock" reason' -l 'reason' -d 'Why (shown to everyone the lock stops).' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock lock" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock unlock" p pipeline' -s 'p' -l 'pipeline' -d 'The pipeline\'s name (default: the only one in pipelines/).' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock unlock" f file' -s 'f' -l 'file' -d 'A pipeline file to use instead of pipelines/NAME.yml.' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock unlock" ledger' -l 'ledger' -d 'The ledger repository (default: the pipeline\'s `ledger`, or AIRLOCK_LEDGER).' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock unlock" json' -l 'json' -d 'Print one JSON document on stdout; progress still goes to stderr.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock unlock" no-color' -l 'no-color' -d 'No colour in progress on a terminal (as with NO_COLOR set).'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_positional "airlock unlock" -eq 1' -fka '(__airlock_custom_completion ---completion unlock -- positional@0 (count (__airlock_tokens -pc)) (__airlock_tokens -tC))'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock unlock" force' -l 'force' -d 'Break a lock or lease held by someone else.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock unlock" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock approve" p pipeline' -s 'p' -l 'pipeline' -d 'The pipeline\'s name (default: the only one in pipelines/).' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock approve" f file' -s 'f' -l 'file' -d 'A pipeline file to use instead of pipelines/NAME.yml.' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock approve" ledger' -l 'ledger' -d 'The ledger repository (default: the pipeline\'s `ledger`, or AIRLOCK_LEDGER).' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock approve" json' -l 'json' -d 'Print one JSON document on stdout; progress still goes to stderr.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock approve" no-color' -l 'no-color' -d 'No colour in progress on a terminal (as with NO_COLOR set).'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock approve" wait' -l 'wait' -d 'Wait up to DURATION (30s, 5m) for another run\'s lease on ENV instead of exit 6; never for an incident lock.' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_positional "airlock approve" -eq 1' -fka '(__airlock_custom_completion ---completion approve -- positional@0 (count (__airlock_tokens -pc)) (__airlock_tokens -tC))'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock approve" release' -l 'release' -d 'A release label or tree id prefix.' -rfka '(__airlock_custom_completion ---completion approve -- --release (count (__airlock_tokens -pc)) (__airlock_tokens -tC))'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock approve" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock ledger" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_positional "airlock ledger" -eq 1' -fa 'gc' -d 'Pack the ledger into one pack (safe while others append) and report stale lock files.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock ledger gc" p pipeline' -s 'p' -l 'pipeline' -d 'The pipeline\'s name (default: the only one in pipelines/).' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock ledger gc" f file' -s 'f' -l 'file' -d 'A pipeline file to use instead of pipelines/NAME.yml.' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock ledger gc" ledger' -l 'ledger' -d 'The ledger repository (default: the pipeline\'s `ledger`, or AIRLOCK_LEDGER).' -rfka ''
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock ledger gc" json' -l 'json' -d 'Print one JSON document on stdout; progress still goes to stderr.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock ledger gc" no-color' -l 'no-color' -d 'No colour in progress on a terminal (as with NO_COLOR set).'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock ledger gc" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock init" json' -l 'json' -d 'Print one JSON document on stdout.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock init" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock version" json' -l 'json' -d 'Print one JSON document on stdout.'
complete -c 'airlock' -n '__airlock_should_offer_completions_for_flags_or_options "airlock version" h help' -s 'h' -l 'help' -d 'Show help information.'
