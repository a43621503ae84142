using System.Diagnostics.CodeAnalysis;
using Junction.Integrations;

namespace Junction.Providers;

/// <summary>Every <c>provider:</c> a source may name: each integration's, then Junction's own form and events API.</summary>
public static class ProviderRegistry
{
    public static readonly IReadOnlyList<IWebhookProvider> All =
    [
        .. IntegrationRegistry.Sources,
        new Capture.FormProvider(),
        new Capture.ApiProvider(),
        new Import.ImportProvider(),
    ];

    public static IEnumerable<string> Names => All.Select(p => p.Name);

    /// <summary>Provider name → its declared kind, for <c>ownership:</c>.</summary>
    public static IReadOnlyDictionary<string, string> Kinds { get; } = All.ToDictionary(p => p.Name, p => p.Kind, StringComparer.Ordinal);

    public static bool TryGet(string name, [NotNullWhen(true)] out IWebhookProvider? provider)
    {
        provider = All.FirstOrDefault(p => p.Name.Equals(name, StringComparison.Ordinal));
        return provider is not null;
    }

    public static IWebhookProvider Get(string name) =>
        TryGet(name, out var found) ? found : throw new ArgumentException($"unknown provider '{name}'", nameof(name));
}
