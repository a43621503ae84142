using Junction.Config;
using Junction.Integrations.HubSpot;
using Junction.Integrations.Salesforce;

namespace Junction.Tests.Integrations.Salesforce;

/// <summary>The <c>destinations:</c> keys of the two CRM destinations: defaults, options and key-path errors.</summary>
public sealed class CrmConfigTests
{
    private const string Base = """
        sources:
          stripe-main:
            provider: stripe
            secrets: ["whsec_live_3f9a0c1e7b2d4a68"]
        tags: [customer, "paid:course-pro"]

        """;

    private static readonly Dictionary<string, string> Env = new(StringComparer.Ordinal)
    {
        ["HUBSPOT_TOKEN"] = "pat-na1-token",
        ["SF_ID"] = "3MVG9_id",
        ["SF_SECRET"] = "sf_secret",
    };

    private static JunctionConfig Parse(string yaml) => ConfigLoader.Parse(Base + yaml, "/etc/junction/junction.yaml", name => Env.GetValueOrDefault(name));

    [Fact]
    public void BothTypes_AreRead_WithTheirDefaults_AndOptions()
    {
        var config = Parse("""
            destinations:
              crm:
                type: hubspot
                credentials: { access_token: "${HUBSPOT_TOKEN}" }
                tags: { "paid:course-pro": "Paid: Course Pro" }
                fields: { ltv_usd: lifetime_value, buyer_status: buyer_status }
                subscription_type_id: "4711"
                deals: true
                refund_stage: refunded
              sf:
                type: salesforce
                base_url: https://acme.my.salesforce.com
                credentials: { client_id: "${SF_ID}", client_secret: "${SF_SECRET}" }
                external_id_field: Junction_Email__c
                tags_field: Junction_Tags__c
                object: Lead
            """);

        var hub = config.Destinations["crm"];
        Assert.True(hub.IsState);
        Assert.Equal(new Uri(HubSpotDestination.DefaultBaseUrl), hub.BaseUrl);
        Assert.Equal(HubSpotDestination.DefaultRate, hub.RateLimit);
        Assert.Equal("pat-na1-token", hub.Credentials["access_token"]);
        Assert.Equal("true", hub.Options["deals"]);
        Assert.Equal("4711", hub.Options["subscription_type_id"]);
        Assert.Equal("refunded", hub.Options["refund_stage"]);
        var sf = config.Destinations["sf"];
        Assert.True(sf.IsState);
        Assert.Equal(SalesforceDestination.DefaultRate, sf.RateLimit);
        Assert.Equal("Lead", sf.Options["object"]);
        Assert.Equal("Junction_Email__c", sf.Options["external_id_field"]);
        Assert.Equal("Junction_Tags__c", sf.Options["tags_field"]);
    }

    [Fact]
    public void Salesforce_WithoutBaseUrlOrExternalIdField_NamesBothKeys()
    {
        var errors = Assert.Throws<ConfigException>(() => Parse("""
            destinations:
              sf:
                type: salesforce
                credentials: { client_id: "${SF_ID}" }
                deals: true
            """)).Errors.ToDictionary(e => e.Path, e => e.Message, StringComparer.Ordinal);

        Assert.Contains("My Domain", errors["destinations.sf.base_url"], StringComparison.Ordinal);
        Assert.Equal("required for type salesforce", errors["destinations.sf.external_id_field"]);
        Assert.Contains("required for type salesforce", errors["destinations.sf.credentials.client_secret"], StringComparison.Ordinal);
        Assert.Contains("does not apply to type salesforce", errors["destinations.sf.deals"], StringComparison.Ordinal);
    }

    [Fact]
    public void HubSpot_DealsFlag_MustBeTrueOrFalse()
    {
        var errors = Assert.Throws<ConfigException>(() => Parse("""
            destinations:
              crm:
                type: hubspot
                credentials: { access_token: "${HUBSPOT_TOKEN}" }
                deals: sometimes
            """)).Errors;

        var error = Assert.Single(errors);
        Assert.Equal("destinations.crm.deals", error.Path);
        Assert.Contains("expected true or false", error.Message, StringComparison.Ordinal);
    }
}
