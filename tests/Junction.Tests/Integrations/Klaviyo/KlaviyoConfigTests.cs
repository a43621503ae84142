using Junction.Config;
using Junction.Integrations.Klaviyo;

namespace Junction.Tests.Integrations.Klaviyo;

/// <summary><c>type: klaviyo</c> in junction.yaml: its keys, defaults and key-path errors.</summary>
public sealed class KlaviyoConfigTests
{
    private const string Base = """
        sources:
          stripe-main:
            provider: stripe
            secrets: ["whsec_live_3f9a0c1e7b2d4a68"]
        tags: [customer, "paid:course-pro"]
        products:
          course-pro:
            match: [{ source: stripe-main, price: price_123 }]
            tags_while_active: ["paid:course-pro"]

        """;

    private static JunctionConfig Parse(string yaml) =>
        ConfigLoader.Parse(Base + yaml, "/etc/junction/junction.yaml", name => name == "KLAVIYO_KEY" ? "pk_live_123" : null);

    [Fact]
    public void Destination_IsReadWithTheRealApi_ItsDefaultRate_ListAndEvents()
    {
        var config = Parse("""
            destinations:
              klaviyo:
                type: klaviyo
                credentials: { api_key: "${KLAVIYO_KEY}" }
                list_id: Y6nRLr
                tags: { "paid:course-pro": "Customer - Course Pro", customer: "list:VipL1s" }
                events: [order.paid, order.refunded]
            """);

        var k = config.Destinations["klaviyo"];
        Assert.Equal(new Uri(KlaviyoDestination.DefaultBaseUrl), k.BaseUrl);
        Assert.Equal(KlaviyoDestination.DefaultRate, k.RateLimit);
        Assert.Equal("Y6nRLr", k.Options["list_id"]);
        Assert.Equal("list:VipL1s", k.Tags["customer"]);
        Assert.Equal(["order.paid", "order.refunded"], k.Events);
    }

    [Fact]
    public void MissingListId_AndApiKey_AreReportedByKeyPath()
    {
        var errors = Assert.Throws<ConfigException>(() => Parse("""
            destinations:
              klaviyo:
                type: klaviyo
                measurement_id: G-1
            """)).Errors.ToDictionary(e => e.Path, e => e.Message, StringComparer.Ordinal);

        Assert.Equal("required for type klaviyo", errors["destinations.klaviyo.list_id"]);
        Assert.Contains("required for type klaviyo", errors["destinations.klaviyo.credentials.api_key"], StringComparison.Ordinal);
        Assert.Contains("does not apply to type klaviyo", errors["destinations.klaviyo.measurement_id"], StringComparison.Ordinal);
    }
}
