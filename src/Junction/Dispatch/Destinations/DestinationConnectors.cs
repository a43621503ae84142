using Junction.Integrations;

namespace Junction.Dispatch.Destinations;

/// <summary>Builds the connector for a configured destination, from its type's integration.</summary>
public static class DestinationConnectors
{
    public const string HttpClientName = "junction-destinations";

    public static IDestinationConnector Create(DestinationConfig config, HttpClient http, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(time);
        return IntegrationRegistry.Destination(config.Type) is { } type
            ? type.Connector(config, http, time)
            : throw new NotSupportedException($"destination type '{config.Type}' ({config.Id}) has no connector in this build");
    }
}
