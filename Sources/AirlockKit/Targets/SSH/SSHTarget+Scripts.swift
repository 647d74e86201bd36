import Foundation

/// The shell scripts an ssh target sends to its hosts, one per step. Each prints a marker the target looks for
/// (`airlock-installed`, `airlock-switched`, `airlock-current …`), so a step that stopped early is told from one that
/// succeeded; every value in them is quoted with `Shell.quote`.
extension SSHTarget {
  /// Prints `airlock-current` and what it points at, then each release folder's mark (one line of JSON each) and
  /// the SHA-256 of each one's config. Safe to run in a session's own shell (it neither exits nor sets options),
  /// and it starts only `readlink` and `sha256sum`: it runs on every host at the start of every command.
  static func readScript(root: String) -> String {
    let path = Shell.quote(root)
    return """
      p=\(path)
      if [ -L "$p/current" ]; then
        if [ -d "$p/current/" ]; then k=dir; else k=missing; fi
        printf 'airlock-current link %s ' "$k"; readlink "$p/current"
      elif [ -e "$p/current" ]; then echo 'airlock-current other'
      else echo 'airlock-current none'; fi
      for m in "$p"/releases/*/.airlock/release.json; do [ -f "$m" ] && IFS= read -r l < "$m" && echo "$l"; done
      sha256sum "$p"/releases/*/.airlock/config.env 2>/dev/null
      true
      """
  }

  /// Unpacks the tar on standard input beside the final name, then renames it into place; a folder of that name
  /// that holds another tree is moved aside first and deleted after.
  static func installScript(root: String, version: String) -> String {
    let path = Shell.quote(root)
    let label = Shell.quote(version)
    return """
      set -e
      mkdir -p -- \(path)/releases
      cd -- \(path)/releases
      v=\(label); s=".incoming-$v-$$"
      rm -rf -- "$s"; mkdir -- "$s"
      tar -x -f - -C "$s" --no-same-owner
      if [ -e "$v" ]; then mv -- "$v" ".stale-$v-$$"; mv -- "$s" "$v"; rm -rf -- ".stale-$v-$$"; else mv -- "$s" "$v"; fi
      echo airlock-installed
      """
  }

  /// Replaces the config of a release folder with `config`, created at mode 0600 and renamed into place. The text
  /// travels inside the script over the connection (a here-document), never on a command line.
  static func configScript(root: String, version: String, config: String) -> String {
    let folder = Shell.quote("\(root)/releases/\(version)/.airlock")
    var delimiter = "AIRLOCK_CONFIG_END"
    while config.contains(delimiter) { delimiter += "_" }
    let body = config.hasSuffix("\n") || config.isEmpty ? config : config + "\n"
    return """
      set -e
      cd -- \(folder)
      umask 077
      cat > ".config.env-$$" <<'\(delimiter)'
      \(body)\(delimiter)
      mv -f -- ".config.env-$$" config.env

      """
  }

  /// Renames a fresh symlink over `current`. The symlink is made inside the release's `.airlock` folder and renamed
  /// from there, so that folder's time records the switch for retention, with no program started for it. Runs in the
  /// session's own shell (no `exit`, no `set -e`, no `cd`), so a switch starts only `ln` and `mv`.
  static func activateScript(root: String, version: String) -> String {
    let path = Shell.quote(root)
    let label = Shell.quote(version)
    return """
      v=\(label); p=\(path); t="$p/releases/$v/.airlock/.current-$$"
      if [ ! -d "$p/releases/$v/.airlock" ]; then echo "release $v is not in \(root)/releases"
      elif ln -sfn "releases/$v" "$t" && mv -T -f -- "$t" "$p/current"; then echo airlock-switched
      fi
      """
  }

  /// Deletes interrupted installs, then this pipeline's folders beyond the newest `keep` by last switch (the time of
  /// their `.airlock` folder, which each switch and config write renews).
  static func pruneScript(root: String, pipeline: String, keep: Int, protecting: Set<String>) -> String {
    let path = Shell.quote(root)
    let marked = Shell.quote("\"pipeline\":\"\(pipeline)\"")
    let protected = Shell.quote(" " + protecting.sorted().joined(separator: " ") + " ")
    return """
      cd -- \(path)/releases 2>/dev/null || exit 0
      rm -rf -- ./.incoming-* ./.stale-*
      c=$(readlink ../current 2>/dev/null || true); c=${c##*/}
      n=0
      for d in $(ls -td -- */.airlock 2>/dev/null); do
        d=${d%/.airlock}
        [ -f "$d/.airlock/release.json" ] || continue
        grep -qF \(marked) "$d/.airlock/release.json" || continue
        n=$((n+1)); [ "$n" -le \(keep) ] && continue
        case \(protected) in *" $d "*) continue;; esac
        [ "$d" = "$c" ] && continue
        rm -rf -- "$d" && echo "airlock-deleted $d"
      done
      exit 0
      """
  }
}

/// Quoting for the POSIX shell that runs a remote command.
enum Shell {
  /// `text` in single quotes, with each `'` written as `'\''`.
  static func quote(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
  }
}

/// Packing a folder with the system `tar`.
enum Tar {
  /// Writes `folder`'s contents (modes kept, so `.airlock/config.env` stays 0600) to the archive `file`.
  static func pack(_ folder: URL, into file: URL) throws {
    let done = ProcessRunner().runAll(
      [["tar", "-c", "-f", file.path, "-C", folder.path, "."]],
      environment: ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"], timeout: .seconds(300))
    guard let result = done.first, result.succeeded else {
      throw TargetError(.io, "cannot pack the release with tar: \(done.first?.output ?? "")")
    }
  }
}
