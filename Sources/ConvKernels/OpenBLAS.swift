import COpenBLAS

/// Facts about, and settings of, the OpenBLAS library convsweep links against.
public enum OpenBLAS {
    /// The version string compiled into the headers, e.g. `0.3.21`.
    public static var version: String {
        // openblas_get_config() starts with "OpenBLAS <version> ...".
        let words = config.split(separator: " ")
        if words.count >= 2, words[0] == "OpenBLAS" { return String(words[1]) }
        return "unknown"
    }

    /// The build configuration string, e.g. `OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Cooperlake MAX_THREADS=64`.
    public static var config: String {
        guard let cString = openblas_get_config() else { return "unknown" }
        return String(cString: cString).trimmingWhitespace()
    }

    /// The name of the kernel set OpenBLAS chose for this CPU, e.g. `Cooperlake`.
    public static var coreName: String {
        guard let cString = openblas_get_corename() else { return "unknown" }
        return String(cString: cString).trimmingWhitespace()
    }

    /// The threading model: `sequential`, `pthreads` or `openmp`.
    public static var parallelism: String {
        switch openblas_get_parallel() {
        case 0: return "sequential"
        case 1: return "pthreads"
        case 2: return "openmp"
        default: return "unknown"
        }
    }

    /// The number of threads OpenBLAS uses for one call.
    public static var threadCount: Int { Int(openblas_get_num_threads()) }

    /// The number of processors OpenBLAS detected when it loaded.
    public static var processorCount: Int { Int(openblas_get_num_procs()) }

    /// Sets the number of threads OpenBLAS uses for one call.
    public static func setThreadCount(_ count: Int) {
        openblas_set_num_threads(Int32(count))
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
