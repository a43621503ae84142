using Junction.Dispatch;
using Junction.Providers;

namespace Junction.Integrations.Kajabi;

/// <summary>Kajabi webhooks (purchases, offers granted).</summary>
public sealed class KajabiIntegration : IIntegration
{
    public string Name => "Kajabi";

    public IWebhookProvider? Source { get; } = new KajabiProvider();

    public DestinationDescriptor? Destination { get; } = new()
    {
        Type = KajabiDestination.Type,
        Traits = DestinationTraits.Enrollments,
        DefaultBaseUrl = KajabiDestination.DefaultBaseUrl,
        Credentials = KajabiDestination.Credentials,
        DefaultRate = KajabiDestination.DefaultRate,
        Maps = ["fields", "courses"],
        RequiredOptions = KajabiDestination.RequiredOptions,
        OptionalOptions = KajabiDestination.OptionalOptions,
        Connector = KajabiDestination.CreateConnector,
        ReadBack = KajabiDestination.CreateReadBack,
    };
}
