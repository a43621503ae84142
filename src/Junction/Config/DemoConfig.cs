namespace Junction.Config;

/// <summary>
/// What <c>junction serve</c> runs when it is given no <c>--config</c> and there is no ./junction.yaml:
/// SQLite under ./data and one source per built-in provider (each provider's own demo source), with published demo secrets. For trying
/// Junction out, never for production: it listens on loopback only and never opens a real store.
/// </summary>
public static class DemoConfig
{
    public const string AdminToken = "demo-admin-token";
    public const string ApiKey = "demo-api-key-0123456789";

    public static JunctionConfig Create(Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var token = environment("JUNCTION_ADMIN_TOKEN");
        var apiKey = environment("JUNCTION_API_KEY");
        return new JunctionConfig
        {
            // Never JUNCTION_STORAGE: published secrets must not write into a real store (serve refuses to start instead).
            Storage = ConfigLoader.DefaultStorage,
            Admin = new AdminConfig([string.IsNullOrEmpty(token) ? AdminToken : token]),
            ApiKeys = [string.IsNullOrEmpty(apiKey) ? ApiKey : apiKey],
            // Every provider's own demo source, with its published secret.
            Sources = Providers.ProviderRegistry.All.Select(p => p.Demo).OfType<SourceConfig>().ToDictionary(s => s.Id, StringComparer.Ordinal),
            // What the simulated traffic (Hosting/DemoTraffic) buys on the demo's payment source: so the demo's people hold tags and entitlements.
            Policy = new State.Policy
            {
                Tags = new HashSet<string>(StringComparer.Ordinal) { "customer", "paid:demo-course", "paid:demo-coaching" },
                Products =
                [
                    new State.ProductPolicy { Id = "demo-course", Match = [new State.ProductMatch(Hosting.DemoTraffic.PaymentSource, Sku: "demo-course")], TagsWhileActive = ["paid:demo-course", "customer"] },
                    new State.ProductPolicy { Id = "demo-coaching", Match = [new State.ProductMatch(Hosting.DemoTraffic.PaymentSource, Sku: "demo-coaching")], TagsWhileActive = ["paid:demo-coaching", "customer"] },
                ],
            },
            Path = null,
        };
    }

    /// <summary>
    /// Why the demo must not start with these listen URLs and this environment, or null when it may:
    /// its secrets are published, so it neither listens beyond loopback nor touches a configured store.
    /// </summary>
    public static string? Refusal(string urls, Func<string, string?> environment)
    {
        if (!string.IsNullOrEmpty(environment(ConfigLoader.StorageEnvironmentVariable)))
        {
            return $"{ConfigLoader.StorageEnvironmentVariable} is set but there is no config file: the demo configuration has published secrets "
                + "and will not open a configured store. Write a junction.yaml (or pass --config) to use that store, or unset the variable to try the demo.";
        }
        var outside = urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(u => !IsLoopbackUrl(u)).ToList();
        if (outside.Count > 0)
        {
            return $"--urls {string.Join(';', outside)} is not a loopback address: the demo configuration has published secrets and listens "
                + "on loopback only (127.0.0.1, [::1] or localhost). Write a junction.yaml (or pass --config) to listen elsewhere.";
        }
        return null;
    }

    /// <summary>True for http(s)://127.x.x.x, [::1] or localhost; false for wildcards (*, +, 0.0.0.0, [::]) and anything unparsable.</summary>
    public static bool IsLoopbackUrl(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri)) return false;
        if (string.Equals(uri.Host, "localhost", StringComparison.OrdinalIgnoreCase)) return true;
        return System.Net.IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && System.Net.IPAddress.IsLoopback(address);
    }
}
