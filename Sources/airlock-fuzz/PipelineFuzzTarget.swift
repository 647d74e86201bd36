// The fuzz target of the pipeline loader. scripts/fuzz builds it with libFuzzer (`-sanitize=fuzzer`), which then
// calls `LLVMFuzzerTestOneInput` with each input it makes up; a plain `swift build` builds a replayer instead, which
// runs the same check on the files named on its command line, so a finding can be tried without libFuzzer.
@_spi(Fuzzing) import AirlockKit
import Foundation

/// Stops the process when the loader breaks its contract for `bytes`, so libFuzzer keeps the input. Crashes, hangs
/// and runaway memory are caught by libFuzzer itself.
func check(_ bytes: Data) {
  if let violation = PipelineLoader.contractViolation(bytes: bytes) { fatalError(violation) }
}

/// libFuzzer's entry point.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  check(data.map { Data(bytes: $0, count: size) } ?? Data())
  return 0
}

#if AIRLOCK_LIBFUZZER
  /// libFuzzer's driver, for a program that has its own `main` (SwiftPM gives every executable one). The arguments
  /// are pointers and integers, passed alike by the Swift and C conventions.
  @_silgen_name("LLVMFuzzerRunDriver")
  func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
  ) -> CInt

  /// Hands the command line (corpus folders, -max_total_time=…) to libFuzzer.
  @main enum Fuzz {
    static func main() {
      var argc = CommandLine.argc
      var argv = CommandLine.unsafeArgv
      exit(runFuzzerDriver(&argc, &argv, fuzzOneInput))
    }
  }
#else
  /// Without libFuzzer: checks every file named on the command line.
  @main enum Replay {
    static func main() {
      for path in CommandLine.arguments.dropFirst() {
        guard let bytes = FileManager.default.contents(atPath: path) else {
          FileHandle.standardError.write(Data("airlock-fuzz: cannot read \(path)\n".utf8))
          exit(1)
        }
        check(bytes)
        print("ok \(path)")
      }
    }
  }
#endif
