import Basics
import ConvKernels

/// The CSV form of a sweep's configurations, as `convsweep sweeps expand --csv` prints it.
///
/// Fields follow RFC 4180: a field holding a comma, a double quote or a line break is quoted, with
/// quotes doubled. Ids never need quoting; a series label may.
public enum SweepCSV {
    /// The header: `experiment,series,H,W,Cin,Cout,K1,K2,batch,flops,status`.
    public static let header = [
        "experiment", "series", "H", "W", "Cin", "Cout", "K1", "K2", "batch", "flops", "status",
    ]

    /// The columns of the layer's geometry, after ``header`` when a configuration needs them (a
    /// layer other than the grid's): those of measurements.csv.
    public static let layerHeader = ConvShape.geometryColumns

    /// The header for `configurations`: ``header``, and ``layerHeader`` when one needs it.
    public static func header(for configurations: [SweepConfiguration]) -> [String] {
        ConvShape.needGeometryColumns(configurations.map(\.shape)) ? header + layerHeader : header
    }

    /// The fields of `configuration` under ``header``; FLOPs as an integer; with the layer's
    /// geometry when `layer` is true.
    public static func fields(_ configuration: SweepConfiguration, layer: Bool = false) -> [String] {
        let shape = configuration.shape
        let base = [
            configuration.experiment, configuration.series, String(shape.height), String(shape.width),
            String(shape.inputChannels), String(shape.outputChannels), String(shape.kernelHeight),
            String(shape.kernelWidth), String(shape.batch), String(Int64(configuration.flops)),
            configuration.status.text,
        ]
        return layer ? base + shape.geometryFields : base
    }

    /// One CSV line (without the line break) of `fields` (``Basics/CSVText``).
    public static func line(_ fields: [String]) -> String {
        String(CSVText.line(fields).dropLast())
    }
}
