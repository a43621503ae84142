using YamlDotNet.RepresentationModel;

namespace Junction.Config;

/// <summary><c>telemetry:</c> — where traces are exported; absent means no exporter at all.</summary>
public static partial class ConfigLoader
{
    private static Uri? ReadTelemetry(Reader reader, YamlMappingNode root)
    {
        var node = Reader.Child(root, "telemetry");
        if (node is null) return null;
        if (node is not YamlMappingNode map)
        {
            reader.Error("telemetry", "expected a mapping with 'otlp_endpoint'");
            return null;
        }
        reader.RejectUnknownKeys(map, "telemetry", ["otlp_endpoint"]);
        var endpoint = reader.OptionalString(map, "otlp_endpoint", "telemetry.otlp_endpoint");
        if (endpoint is null) return null;
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
        {
            reader.Error("telemetry.otlp_endpoint", $"expected the http(s) base URL of an OTLP/HTTP collector, e.g. http://localhost:4318; got '{endpoint}'");
            return null;
        }
        return uri;
    }
}
