namespace Junction.Config;

/// <summary>
/// What <c>junction serve</c> runs when it is given no <c>--config</c> and there is no ./junction.yaml:
/// SQLite under ./data and one source per built-in provider, with published demo secrets. For trying
/// Junction out, never for production: it listens on loopback only and never opens a real store.
/// </summary>
public static class DemoConfig
{
    public const string AdminToken = "demo-admin-token";
    public const string ApiKey = "demo-api-key-0123456789";
    public const string StripeSecret = "whsec_demo_stripe_secret";
    public const string ShopifySecret = "demo_shopify_secret";
    public const string StandardWebhooksSecret = "whsec_ZGVtby1zdGFuZGFyZC13ZWJob29rcy1zZWNyZXQ=";
    public const string GumroadToken = "demo_gumroad_token_0123";
    public const string LemonSqueezySecret = "demo_lemonsqueezy_secret";
    public const string PaddleSecret = "pdl_ntfset_demo_paddle_secret";
    public const string WooCommerceSecret = "demo_woocommerce_secret";
    public const string CalendlySigningKey = "demo_calendly_signing_key";
    public const string AcuityApiKey = "demo_acuity_api_key";
    public const string ZoomSecretToken = "demo_zoom_secret_token";
    public const string KitSecret = "demo_kit_token_01234567";
    public const string MailchimpToken = "demo_mailchimp_token_0123";
    public const string ActiveCampaignToken = "demo_activecampaign_token_0123";
    public const string TeachableToken = "demo_teachable_token_0123";
    public const string ThinkificSecret = "demo_thinkific_api_key_0123";
    public const string KajabiToken = "demo_kajabi_token_0123";

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
            Sources = new Dictionary<string, SourceConfig>(StringComparer.Ordinal)
            {
                ["demo-stripe"] = new() { Id = "demo-stripe", Provider = "stripe", Secrets = [StripeSecret] },
                ["demo-shopify"] = new() { Id = "demo-shopify", Provider = "shopify", Secrets = [ShopifySecret] },
                ["demo-standard"] = new() { Id = "demo-standard", Provider = "standard-webhooks", Secrets = [StandardWebhooksSecret] },
                ["demo-paypal"] = new()
                {
                    Id = "demo-paypal",
                    Provider = "paypal",
                    Secrets = [],
                    Options = Options(("webhook_id", "WEBHOOK_ID"), ("api_base_url", "https://api-m.sandbox.paypal.com")),
                },
                ["demo-paypal-ipn"] = new()
                {
                    Id = "demo-paypal-ipn",
                    Provider = "paypal-ipn",
                    Secrets = [],
                    Options = Options(("ipn_url", "https://ipnpb.sandbox.paypal.com/cgi-bin/webscr")),
                },
                ["demo-gumroad"] = new() { Id = "demo-gumroad", Provider = "gumroad", Secrets = [GumroadToken] },
                ["demo-lemonsqueezy"] = new() { Id = "demo-lemonsqueezy", Provider = "lemonsqueezy", Secrets = [LemonSqueezySecret] },
                ["demo-paddle"] = new() { Id = "demo-paddle", Provider = "paddle", Secrets = [PaddleSecret] },
                ["demo-woocommerce"] = new() { Id = "demo-woocommerce", Provider = "woocommerce", Secrets = [WooCommerceSecret] },
                ["demo-calendly"] = new() { Id = "demo-calendly", Provider = "calendly", Secrets = [CalendlySigningKey] },
                ["demo-acuity"] = new()
                {
                    Id = "demo-acuity",
                    Provider = "acuity",
                    Secrets = [AcuityApiKey],
                    Options = Options(("user_id", "12345"), ("api_key", AcuityApiKey)),
                },
                ["demo-zoom"] = new() { Id = "demo-zoom", Provider = "zoom", Secrets = [ZoomSecretToken] },
                ["demo-kit"] = new() { Id = "demo-kit", Provider = "kit", Secrets = [KitSecret] },
                ["demo-mailchimp"] = new() { Id = "demo-mailchimp", Provider = "mailchimp", Secrets = [MailchimpToken] },
                ["demo-activecampaign"] = new() { Id = "demo-activecampaign", Provider = "activecampaign", Secrets = [ActiveCampaignToken] },
                ["demo-teachable"] = new() { Id = "demo-teachable", Provider = "teachable", Secrets = [TeachableToken] },
                ["demo-thinkific"] = new() { Id = "demo-thinkific", Provider = "thinkific", Secrets = [ThinkificSecret] },
                ["demo-kajabi"] = new() { Id = "demo-kajabi", Provider = "kajabi", Secrets = [KajabiToken] },
                ["demo-form"] = new()
                {
                    Id = "demo-form",
                    Provider = "form",
                    Secrets = [],
                    Options = Options(("allowed_origins", "http://localhost:8000\nhttp://127.0.0.1:8000")),
                },
                ["demo-api"] = new() { Id = "demo-api", Provider = "api", Secrets = [] },
            },
            // What the simulated traffic (Hosting/DemoTraffic) buys: so the demo's people hold tags and entitlements.
            Policy = new State.Policy
            {
                Tags = new HashSet<string>(StringComparer.Ordinal) { "customer", "paid:demo-course", "paid:demo-coaching" },
                Products =
                [
                    new State.ProductPolicy { Id = "demo-course", Match = [new State.ProductMatch("demo-stripe", Sku: "demo-course")], TagsWhileActive = ["paid:demo-course", "customer"] },
                    new State.ProductPolicy { Id = "demo-coaching", Match = [new State.ProductMatch("demo-stripe", Sku: "demo-coaching")], TagsWhileActive = ["paid:demo-coaching", "customer"] },
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

    private static Dictionary<string, string> Options(params (string Key, string Value)[] pairs) =>
        pairs.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
}
