namespace Junction.Config;

/// <summary>
/// What <c>junction serve</c> runs when there is no config file: SQLite under ./data and one source
/// per built-in provider, with published demo secrets. For trying Junction out, never for production.
/// </summary>
public static class DemoConfig
{
    public const string AdminToken = "demo-admin-token";
    public const string StripeSecret = "whsec_demo_stripe_secret";
    public const string ShopifySecret = "demo_shopify_secret";
    public const string StandardWebhooksSecret = "whsec_ZGVtby1zdGFuZGFyZC13ZWJob29rcy1zZWNyZXQ=";

    public static JunctionConfig Create(Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var storage = environment(ConfigLoader.StorageEnvironmentVariable);
        var token = environment("JUNCTION_ADMIN_TOKEN");
        return new JunctionConfig
        {
            Storage = string.IsNullOrEmpty(storage) ? ConfigLoader.DefaultStorage : storage,
            Admin = new AdminConfig([string.IsNullOrEmpty(token) ? AdminToken : token]),
            Sources = new Dictionary<string, SourceConfig>(StringComparer.Ordinal)
            {
                ["demo-stripe"] = new() { Id = "demo-stripe", Provider = "stripe", Secrets = [StripeSecret] },
                ["demo-shopify"] = new() { Id = "demo-shopify", Provider = "shopify", Secrets = [ShopifySecret] },
                ["demo-standard"] = new() { Id = "demo-standard", Provider = "standard-webhooks", Secrets = [StandardWebhooksSecret] },
            },
            Path = null,
        };
    }
}
