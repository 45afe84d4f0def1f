import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// This machine's memory, for refusing configurations that cannot fit.
public enum SystemMemory {
    /// Bytes of physical memory (`sysconf(_SC_PHYS_PAGES) · sysconf(_SC_PAGESIZE)`).
    public static var physicalBytes: Int {
        let pages = sysconf(Int32(_SC_PHYS_PAGES))
        let size = sysconf(Int32(_SC_PAGESIZE))
        guard pages > 0, size > 0 else { return Int.max }
        return pages.multipliedReportingOverflow(by: size).overflow ? Int.max : pages * size
    }
}

extension SystemMemory {
    /// Free physical memory the kernel could give this process now (`MemAvailable` of
    /// /proc/meminfo), in bytes; nil where it cannot be read.
    public static var availableBytes: Int? {
        guard let text = SystemFile.read("/proc/meminfo") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
            let fields = line.split(separator: " ")
            if fields.count >= 2, let kib = Int(fields[1]) { return kib * 1024 }
        }
        return nil
    }
}

/// Small files of /proc, /sys and /etc.
public enum SystemFile {
    /// The whole text of the file at `path`, or nil when it cannot be read (read with `fread`:
    /// files under /proc report a size of 0).
    public static func read(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&chunk, 1, chunk.count, file)
            if n <= 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
