import PosologyCLI

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

exit(Posology.run(Array(CommandLine.arguments.dropFirst())))
