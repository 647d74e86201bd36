// swift-tools-version:6.0
import PackageDescription

// libgit2 and what it needs are linked from the archives Debian's libgit2-dev brings (with libssh2-1-dev,
// libssl-dev, libhttp-parser-dev, libpcre2-dev, libmbedtls-dev, zlib1g-dev): loading libgit2.so and its eleven
// shared libraries (libcrypto's thousands of symbol bindings above all) cost every `airlock` start about 3 ms.
// Archives in dependency order (gold reads each once). GSSAPI has no archive in Debian: CGit2Negotiate loads it on
// first use instead.
let staticLibgit2: [LinkerSetting] =
  [
    "git2", "ssh2", "crypto", "http_parser", "pcre2-8", "mbedtls", "mbedx509", "mbedcrypto", "z",
  ].map { .linkedLibrary(":lib\($0).a", .when(platforms: [.linux])) } + [
    .linkedLibrary("git2", .when(platforms: [.macOS])),
    .linkedLibrary("z", .when(platforms: [.macOS])),
    .linkedLibrary("mbedtls", .when(platforms: [.macOS])),
    .linkedLibrary("mbedx509", .when(platforms: [.macOS])),
    .linkedLibrary("mbedcrypto", .when(platforms: [.macOS])),
  ]

let package = Package(
  name: "Airlock",
  platforms: [.macOS(.v14)],
  products: [
    .library(name: "AirlockKit", targets: ["AirlockKit"]),
    .executable(name: "airlock", targets: ["airlock"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
  ],
  targets: [
    .systemLibrary(
      name: "CGit2",
      providers: [.apt(["libgit2-dev"])]
    ),
    .systemLibrary(
      name: "CMbedCrypto",
      providers: [.apt(["libmbedtls-dev"])]
    ),
    // https checks speak TLS through mbed TLS, so `airlock` links no FoundationNetworking (libcurl and its dozens of
    // shared libraries cost every start, not only the starts that probe https).
    .systemLibrary(
      name: "CMbedTLS",
      providers: [.apt(["libmbedtls-dev"])]
    ),
    // libgit2's initialisation without its parse of the system CA bundle; see the header.
    .target(name: "CGit2Certificates", dependencies: ["CGit2", "CMbedTLS"]),
    // libgit2's GSSAPI calls (HTTP Negotiate), bound to libgssapi_krb5.so.2 only when first made; see the header.
    .target(name: "CGit2Negotiate"),
    .target(
      name: "AirlockKit",
      dependencies: [
        "CGit2",
        "CGit2Certificates",
        "CGit2Negotiate",
        "CMbedCrypto",
        "CMbedTLS",
        .product(name: "Yams", package: "Yams"),
      ],
      linkerSettings: staticLibgit2
    ),
    .executableTarget(
      name: "airlock",
      dependencies: [
        "AirlockKit",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      // libgit2's initialisation skips the system CA bundle, loaded before a network remote instead (CGit2Certificates).
      linkerSettings: [.unsafeFlags(["-Xlinker", "--wrap=mbedtls_x509_crt_parse_file"], .when(platforms: [.linux]))]
    ),
    .executableTarget(
      name: "airlock-bench",
      dependencies: [
        "AirlockKit",
        "AirlockTestSupport",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    // A Foundation hello-world, the start-up floor `airlock-bench rollback` prints beside `airlock`'s.
    .executableTarget(name: "airlock-hello"),
    // The pipeline loader's fuzz target; scripts/fuzz builds it with libFuzzer, a plain build makes a replayer.
    .executableTarget(
      name: "airlock-fuzz",
      dependencies: ["AirlockKit"]
    ),
    .target(
      name: "AirlockTestSupport",
      dependencies: ["AirlockKit"],
      path: "Tests/AirlockTestSupport"
    ),
    .testTarget(
      name: "AirlockKitTests",
      dependencies: ["AirlockKit", "AirlockTestSupport"]
    ),
    .testTarget(
      name: "AirlockCLITests",
      dependencies: ["airlock", "AirlockTestSupport", .product(name: "Yams", package: "Yams")],
      exclude: ["Golden"]
    ),
  ],
  swiftLanguageModes: [.v6]
)
