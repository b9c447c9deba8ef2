// The C math library, without Foundation: the numerics core imports only libm.
#if canImport(Darwin)
@_exported import Darwin
#elseif canImport(Glibc)
@_exported import Glibc
#elseif canImport(Musl)
@_exported import Musl
#else
#error("Unsupported platform: PKNumerics needs the C math library.")
#endif
