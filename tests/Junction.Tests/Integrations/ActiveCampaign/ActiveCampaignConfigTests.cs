using Junction.Config;
using Junction.Integrations.ActiveCampaign;

namespace Junction.Tests.Integrations.ActiveCampaign;

/// <summary><c>type: activecampaign</c> in junction.yaml: its keys, defaults and key-path errors.</summary>
public sealed class ActiveCampaignConfigTests
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
        ConfigLoader.Parse(Base + yaml, "/etc/junction/junction.yaml", name => name == "AC_API_KEY" ? "ac_token_123" : null);

    [Fact]
    public void Destination_IsReadWithItsDocumentedRate_AndListId()
    {
        var config = Parse("""
            destinations:
              ac:
                type: activecampaign
                base_url: https://youraccount.api-us1.com
                credentials: { api_key: "${AC_API_KEY}" }
                list_id: "3"
                tags: { "paid:course-pro": "Customer - Course Pro" }
                fields: { ltv_usd: LTV }
            """);

        var ac = config.Destinations["ac"];
        Assert.Equal(ActiveCampaignDestination.Type, ac.Type);
        Assert.True(ac.IsState);
        Assert.Equal(5, ac.RateLimit);
        Assert.Equal("3", ac.Options["list_id"]);
        Assert.Equal("ac_token_123", ac.Credentials["api_key"]);
        Assert.Equal("LTV", ac.Fields["ltv_usd"]);
    }

    [Fact]
    public void MissingBaseUrl_AndCourses_AreReportedByKeyPath()
    {
        var errors = Assert.Throws<ConfigException>(() => Parse("""
            destinations:
              ac:
                type: activecampaign
                credentials: { api_key: "${AC_API_KEY}" }
                courses: { course-pro: "1" }
            """)).Errors.ToDictionary(e => e.Path, e => e.Message, StringComparer.Ordinal);

        Assert.Equal(ActiveCampaignDestination.BaseUrlRequired, errors["destinations.ac.base_url"]);
        Assert.Contains("api-us1.com", errors["destinations.ac.base_url"], StringComparison.Ordinal);
        Assert.Contains("does not apply to type activecampaign", errors["destinations.ac.courses"], StringComparison.Ordinal);
    }
}
