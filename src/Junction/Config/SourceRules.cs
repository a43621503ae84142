using Junction.Providers;
using Junction.State;

namespace Junction.Config;

/// <summary>
/// The rules for sources anyone can post to (<see cref="IWebhookProvider.Authenticated"/> false):
/// read from their options into the <see cref="Policy"/> the fold and identity resolution see, so
/// live projection and <c>junction rebuild</c> apply the same ones. Also hands the fold every
/// provider's declared kind (<see cref="IWebhookProvider.Kind"/>) for <c>ownership:</c>.
/// </summary>
public static class SourceRules
{
    public const string AllowedTags = "allowed_tags";
    public const string DoubleOptIn = "double_opt_in";
    public const string AllowWithdraw = "allow_withdraw";

    public static bool IsUnauthenticated(SourceConfig source)
    {
        ArgumentNullException.ThrowIfNull(source);
        // The loader refuses unknown providers; a hand-built config's unknown one is treated as signed.
        return ProviderRegistry.TryGet(source.Provider, out var provider) && !provider.Authenticated;
    }

    /// <summary>The policy with its unauthenticated-source rules replaced by those of <paramref name="sources"/>.</summary>
    public static Policy Apply(Policy policy, IReadOnlyDictionary<string, SourceConfig> sources)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(sources);
        var rules = new Dictionary<string, UnauthenticatedSource>(StringComparer.Ordinal);
        foreach (var (id, source) in sources)
        {
            if (!IsUnauthenticated(source)) continue;
            rules[id] = new UnauthenticatedSource
            {
                AllowedTags = (source.Option(AllowedTags) ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    .ToHashSet(StringComparer.Ordinal),
                DoubleOptIn = source.Option(DoubleOptIn) == "true",
                AllowWithdraw = source.Option(AllowWithdraw) == "true",
            };
        }
        var providers = ProviderRegistry.All.Where(p => !p.Authenticated).Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        return policy with
        {
            // Every provider's own kind, however the policy was built: a missing one would make its money or access writes vanish.
            Ownership = policy.Ownership with { Kinds = ProviderRegistry.Kinds },
            Unauthenticated = rules,
            UnauthenticatedProviders = providers,
            Identity = policy.Identity with { UnauthenticatedSources = rules.Keys.ToHashSet(StringComparer.Ordinal), UnauthenticatedProviders = providers },
        };
    }
}
