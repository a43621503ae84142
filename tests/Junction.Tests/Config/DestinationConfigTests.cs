using Junction.Canonical;
using Junction.Config;
using Junction.Dispatch;

namespace Junction.Tests.Config;

public sealed class DestinationConfigTests
{
    private const string Base = """
        sources:
          stripe-main:
            provider: stripe
            secrets: ["whsec_live_3f9a0c1e7b2d4a68"]
        tags: [customer, "paid:course-pro", refunded]
        products:
          course-pro:
            match: [{ source: stripe-main, price: price_123 }]
            tags_while_active: ["paid:course-pro"]

        """;

    private static readonly Dictionary<string, string> Env = new(StringComparer.Ordinal)
    {
        ["KIT_API_KEY"] = "kit_live_key_123",
        ["MC_API_KEY"] = "0123456789abcdef0123456789abcdef-us21",
        ["TEACHABLE_API_KEY"] = "tch_key",
        ["HOOK_SECRET"] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        ["GA4_SECRET"] = "ga4_api_secret",
    };

    private static JunctionConfig Parse(string yaml) =>
        ConfigLoader.Parse(Base + yaml, "/etc/junction/junction.yaml", name => Env.GetValueOrDefault(name));

    private static IReadOnlyList<ConfigError> Errors(string yaml) => Assert.Throws<ConfigException>(() => Parse(yaml)).Errors;

    [Fact]
    public void FullExample_IsReadWithDefaultsFromEachApi()
    {
        var config = Parse("""
            destinations:
              kit-main:
                type: kit
                credentials: { api_key: "${KIT_API_KEY}" }
                tags: { "paid:course-pro": "Customer - Course Pro", customer: Customer }
                fields: { ltv_usd: lifetime_value, buyer_status: buyer_status }
              mc:
                type: mailchimp
                list_id: a1b2c3d4e5
                credentials: { api_key: "${MC_API_KEY}" }
                rate_limit: 5
                retry: { max_age: 12h, base_delay: 2s }
              courses:
                type: teachable
                credentials: { api_key: "${TEACHABLE_API_KEY}" }
                courses: { course-pro: "2150843" }
              hook:
                type: webhook
                base_url: https://hooks.example.com/junction
                credentials: { secret: "${HOOK_SECRET}" }
                events: [order.paid, optin]
              ga:
                type: ga4
                measurement_id: G-ABC123
                credentials: { api_secret: "${GA4_SECRET}" }
            """);

        var d = config.Destinations;
        Assert.Equal(["courses", "ga", "hook", "kit-main", "mc"], d.Keys.Order(StringComparer.Ordinal));

        var kit = d["kit-main"];
        Assert.Equal((DestinationTypes.Kit, new Uri("https://api.kit.com"), 2.0), (kit.Type, kit.BaseUrl, kit.RateLimit));
        Assert.Equal("kit_live_key_123", kit.Credentials["api_key"]);
        Assert.Equal("Customer - Course Pro", kit.Tags["paid:course-pro"]);
        Assert.Equal("lifetime_value", kit.Fields["ltv_usd"]);
        Assert.Equal((TimeSpan.FromHours(24), TimeSpan.FromSeconds(1)), (kit.RetryMaxAge, kit.RetryBaseDelay));

        var mc = d["mc"];
        Assert.Equal(new Uri("https://us21.api.mailchimp.com"), mc.BaseUrl);
        Assert.Equal("a1b2c3d4e5", mc.Options["list_id"]);
        Assert.Equal((5.0, TimeSpan.FromHours(12), TimeSpan.FromSeconds(2)), (mc.RateLimit, mc.RetryMaxAge, mc.RetryBaseDelay));

        Assert.Equal((new Uri("https://developers.teachable.com"), 6.0), (d["courses"].BaseUrl, d["courses"].RateLimit));
        Assert.Equal("2150843", d["courses"].Courses["course-pro"]);

        Assert.Equal(new Uri("https://hooks.example.com/junction"), d["hook"].BaseUrl);
        Assert.Equal(["order.paid", "optin"], d["hook"].Events);
        Assert.Equal("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", d["hook"].Credentials["secret"]);

        Assert.Equal((new Uri("https://www.google-analytics.com"), "G-ABC123"), (d["ga"].BaseUrl, d["ga"].Options["measurement_id"]));
        Assert.Empty(d["ga"].Events); // the planner applies GA4's default (purchases and refunds)
        Assert.Equal([EventTypes.OrderPaid, EventTypes.OrderRefunded], DeliveryPlanner.EventsFor(d["ga"]));
    }

    [Fact]
    public void Ga4Validate_AsDocumented_ReachesTheConnector_AndOnlyTakesTrueOrFalse()
    {
        // docs/outgoing-webhooks.md documents `validate: true` for GA4; the loader used to refuse it as an unknown key.
        const string Ga4 = """
            destinations:
              ga:
                type: ga4
                measurement_id: G-ABC123
                credentials: { api_secret: "${GA4_SECRET}" }
                validate: {0}
            """;
        Assert.Equal("true", Parse(Ga4.Replace("{0}", "true", StringComparison.Ordinal)).Destinations["ga"].Options["validate"]);
        Assert.False(Parse(Ga4.Replace("validate: {0}", "", StringComparison.Ordinal)).Destinations["ga"].Options.ContainsKey("validate"));

        var error = Assert.Single(Errors(Ga4.Replace("{0}", "sometimes", StringComparison.Ordinal)));
        Assert.Equal("destinations.ga.validate: expected true or false; got 'sometimes'", error.ToString());

        var kit = Assert.Single(Errors("""
            destinations:
              kit-main:
                type: kit
                credentials: { api_key: "${KIT_API_KEY}" }
                validate: true
            """));
        Assert.Equal("destinations.kit-main.validate", kit.Path);
        Assert.StartsWith("does not apply to type kit", kit.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NoDestinations_IsAnEmptyMap()
    {
        Assert.Empty(Parse("").Destinations);
    }

    [Fact]
    public void BaseUrl_IsOverridable_ForTestsAndSandboxes()
    {
        var d = Parse("""
            destinations:
              kit-main:
                type: kit
                base_url: http://127.0.0.1:5123
                credentials: { api_key: "${KIT_API_KEY}" }
                double_opt_in_form: "4242"
            """).Destinations["kit-main"];

        Assert.Equal(new Uri("http://127.0.0.1:5123"), d.BaseUrl);
        Assert.Equal("4242", d.Options["double_opt_in_form"]);
    }

    [Fact]
    public void EveryMistake_IsReportedAtOnce_WithItsKeyPath()
    {
        var errors = Errors("""
            destinations:
              kit-main:
                type: kit
                credentials: { api_key: "${KIT_API_KEY}" }
                tags: { vip: VIP }
                fields: { shoe_size: shoe }
                rate_limit: 0
                base_url: "ftp://example.com"
                events: [order.paid]
              mc:
                type: mailchimp
                credentials: { api_key: "no-datacenter-suffix-" }
              courses:
                type: teachable
                credentials: { api_key: "${TEACHABLE_API_KEY}" }
                courses: { course-basic: "1" }
              hook:
                type: webhook
                events: [order.shipped]
              odd:
                type: nosuchtool
            """);

        var byPath = errors.ToDictionary(e => e.Path, e => e.Message, StringComparer.Ordinal);
        Assert.Contains("tag 'vip' is not in tags:", byPath["destinations.kit-main.tags.vip"], StringComparison.Ordinal);
        Assert.Contains("unknown person field", byPath["destinations.kit-main.fields.shoe_size"], StringComparison.Ordinal);
        Assert.Contains("positive number", byPath["destinations.kit-main.rate_limit"], StringComparison.Ordinal);
        Assert.Equal("expected an absolute http(s) URL; got 'ftp://example.com'", byPath["destinations.kit-main.base_url"]);
        Assert.Contains("does not apply to type kit", byPath["destinations.kit-main.events"], StringComparison.Ordinal);
        Assert.Equal("required for type mailchimp", byPath["destinations.mc.list_id"]);
        Assert.Contains("ending in -<data center>", byPath["destinations.mc.credentials.api_key"], StringComparison.Ordinal);
        Assert.Equal("product 'course-basic' is not in products:", byPath["destinations.courses.courses.course-basic"]);
        Assert.Contains("required for type webhook", byPath["destinations.hook.credentials.secret"], StringComparison.Ordinal);
        Assert.Contains("required for type webhook", byPath["destinations.hook.base_url"], StringComparison.Ordinal);
        Assert.Contains("got 'order.shipped'", byPath["destinations.hook.events[0]"], StringComparison.Ordinal);
        Assert.Equal($"expected one of {string.Join(", ", Junction.Integrations.IntegrationRegistry.Destinations.Select(d => d.Type))}; got 'nosuchtool'", byPath["destinations.odd.type"]);
        Assert.Contains("kit, mailchimp,", byPath["destinations.odd.type"], StringComparison.Ordinal);
        Assert.Equal(12, errors.Count);
    }

    [Fact]
    public void MissingCredentialFromTheEnvironment_NamesTheVariable()
    {
        var error = Assert.Single(Errors("""
            destinations:
              kit-main:
                type: kit
                credentials: { api_key: "${KIT_KEY_NOT_SET}" }
            """));

        Assert.Equal("destinations.kit-main.credentials.api_key: environment variable KIT_KEY_NOT_SET is not set", error.ToString());
    }

    [Fact]
    public void MissingCredentials_AreRequiredPerType()
    {
        var errors = Errors("""
            destinations:
              ga:
                type: ga4
              kit-main:
                type: kit
                credentials: { token: abc }
            """);

        Assert.Contains(errors, e => e.Path == "destinations.ga.credentials.api_secret" && e.Message.StartsWith("required for type ga4", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Path == "destinations.ga.measurement_id");
        Assert.Contains(errors, e => e.Path == "destinations.kit-main.credentials.token" && e.Message.Contains("unknown credential", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Path == "destinations.kit-main.credentials.api_key");
        Assert.Equal(4, errors.Count);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("fast")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    public void NonPositiveOrNonNumericRate_IsAnError(string rate)
    {
        var error = Assert.Single(Errors($$"""
            destinations:
              kit-main:
                type: kit
                credentials: { api_key: "${KIT_API_KEY}" }
                rate_limit: "{{rate}}"
            """));

        Assert.Equal("destinations.kit-main.rate_limit", error.Path);
    }

    [Fact]
    public void FractionalRate_IsAccepted()
    {
        var d = Parse("""
            destinations:
              kit-main:
                type: kit
                credentials: { api_key: "${KIT_API_KEY}" }
                rate_limit: 0.5
            """).Destinations["kit-main"];

        Assert.Equal(0.5, d.RateLimit);
    }

    [Fact]
    public void BadRetryDurations_AreErrorsAtTheirPath()
    {
        var errors = Errors("""
            destinations:
              kit-main:
                type: kit
                credentials: { api_key: "${KIT_API_KEY}" }
                retry: { max_age: forever, base_delay: 1x, attempts: 3 }
            """);

        Assert.Equal(["destinations.kit-main.retry.attempts", "destinations.kit-main.retry.base_delay", "destinations.kit-main.retry.max_age"],
            errors.Select(e => e.Path).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void UnknownKey_IsAnError()
    {
        var error = Assert.Single(Errors("""
            destinations:
              kit-main:
                type: kit
                credentials: { api_key: "${KIT_API_KEY}" }
                api_revision: v3
            """));

        Assert.Equal("destinations.kit-main.api_revision", error.Path);
        Assert.StartsWith("unknown key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DestinationsNotAMapping_IsAnError()
    {
        var error = Assert.Single(Errors("destinations: [kit]\n"));
        Assert.Equal("destinations", error.Path);
    }
}
