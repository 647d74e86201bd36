// swift-tools-version:6.0
// A check kind of your own, registered with AirlockKit and run through the library API (not the CLI).
//
//   swift run --package-path examples/custom-check custom-check DIR
import PackageDescription

let package = Package(
  name: "custom-check",
  platforms: [.macOS(.v14)],
  dependencies: [
    .package(name: "Airlock", path: "../..")
  ],
  targets: [
    .executableTarget(
      name: "custom-check",
      dependencies: [.product(name: "AirlockKit", package: "Airlock")]
    )
  ],
  swiftLanguageModes: [.v6]
)
