internal import CGit2
import Foundation

/// What a command-line tool starts on a second core before it parses its arguments.
public enum Startup {
  /// Tells the C allocator to keep freed memory rather than return it to the kernel at once (glibc only).
  ///
  /// libgit2 allocates and frees zlib's buffers for every object it writes; with glibc's default trim threshold
  /// each write faulted those pages in again, about a sixth of a rollback's page faults. For a command-line tool,
  /// called first thing; the memory kept is bounded by the process's peak use.
  public static func keepFreedMemory() {
    airlock_keep_freed_memory()
  }

  /// Starts, on a background thread, the one-time work every command that reads the ledger would otherwise do on
  /// its critical path, and returns at once; calling it more than once, or not at all, is harmless.
  ///
  /// In order of need: a warm-up of the pipeline loader (`PipelineLoader.warmUp()`, needed right after argument
  /// parsing), libgit2's initialisation (global state, and, unless the executable defers it as `airlock` does, the
  /// parse of the system's CA bundle; needed when the ledger opens), and a warm-up of the ledger's JSON coders
  /// (`LedgerCoding.warmUp()`, needed when the first lease or state is read or written). The warm-ups parse and
  /// encode samples in memory only: what they leave behind is the Swift runtime's caches of type metadata and
  /// protocol conformances, whose first lookups walk every conformance record in the binary. The first `Ledger`
  /// open waits for whatever of libgit2's initialisation is left.
  public static func prepareInBackground() {
    Thread.detachNewThread {
      PipelineLoader.warmUp()
      _ = try? requireLibgit2()
      LedgerCoding.warmUp()
    }
  }
}
