using Junction.Dispatch;
using Junction.Integrations;

namespace Junction.Audit;

/// <summary>Builds the audit's read-back for a configured state destination; null when its type has none.</summary>
public static class ReadBacks
{
    public static IDestinationReadBack? Create(DestinationConfig config, HttpClient http, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(time);
        return IntegrationRegistry.Destination(config.Type)?.ReadBack?.Invoke(config, http, time);
    }
}
