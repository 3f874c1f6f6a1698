//! The scripts `kdebug completion bash|zsh|fish` prints. Each asks `kdebug __complete` with
//! the words typed so far and offers what it prints, one candidate a line (`:files` means
//! "complete file names"). Errors go to /dev/null: a failed lookup offers nothing.

pub const BASH: &str = r#"# kdebug completion for bash. Load it with:  source <(kdebug completion bash)
_kdebug_complete() {
    local line="${COMP_LINE:0:COMP_POINT}"
    local -a words
    read -r -a words <<< "$line"
    if [[ -z "$line" || "$line" == *[[:space:]] ]]; then
        words+=("")
    fi
    local cur="${words[${#words[@]}-1]}"
    local part="${COMP_WORDS[COMP_CWORD]}"
    [[ "$line" == *[[:space:]] ]] && part=""
    # bash splits words at = and :, and replaces only the piece after the last of them.
    local cut=$(( ${#cur} - ${#part} ))
    (( cut < 0 )) && cut=0
    local out
    out=$("${words[0]}" __complete "${words[@]:1}" 2>/dev/null) || return 0
    COMPREPLY=()
    [[ -z "$out" ]] && return 0
    if [[ "$out" == ":files" ]]; then
        mapfile -t COMPREPLY < <(compgen -f -- "$part")
        return 0
    fi
    local -a cands
    mapfile -t cands <<< "$out"
    local c
    for c in "${cands[@]}"; do
        COMPREPLY+=("${c:cut}")
    done
    if [[ ${#COMPREPLY[@]} -eq 1 && "${COMPREPLY[0]}" == *[/,=] ]]; then
        compopt -o nospace 2>/dev/null
    fi
    return 0
}
complete -F _kdebug_complete kdebug kubectl-kdebug
"#;

pub const ZSH: &str = r#"#compdef kdebug kubectl-kdebug
# kdebug completion for zsh. Load it with:  source <(kdebug completion zsh)   (after compinit)
_kdebug() {
    local out
    out=$("${words[1]}" __complete "${(@)words[2,CURRENT]}" 2>/dev/null) || return 1
    [[ -z "$out" ]] && return 1
    if [[ "$out" == ":files" ]]; then
        _files
        return
    fi
    local -a cands nospace
    local c
    for c in "${(@f)out}"; do
        if [[ "$c" == *[/,=] ]]; then nospace+=("$c"); else cands+=("$c"); fi
    done
    (( ${#cands} )) && compadd -Q -- "${cands[@]}"
    (( ${#nospace} )) && compadd -Q -S '' -- "${nospace[@]}"
    return 0
}
if (( $+functions[compdef] )); then
    compdef _kdebug kdebug kubectl-kdebug
fi
"#;

pub const FISH: &str = r#"# kdebug completion for fish. Load it with:  kdebug completion fish | source
function __kdebug_complete
    set -l tokens (commandline -opc)
    set -l cur (commandline -ct)
    set -l out ($tokens[1] __complete $tokens[2..-1] "$cur" 2>/dev/null)
    if test "$out" = ":files"
        __fish_complete_path "$cur"
        return
    end
    printf '%s\n' $out
end
complete -c kdebug -f -a '(__kdebug_complete)'
complete -c kubectl-kdebug -f -a '(__kdebug_complete)'
"#;

/// The script for `shell`, or `None` for a shell kdebug has none for.
pub fn script(shell: &str) -> Option<&'static str> {
    match shell {
        "bash" => Some(BASH),
        "zsh" => Some(ZSH),
        "fish" => Some(FISH),
        _ => None,
    }
}
