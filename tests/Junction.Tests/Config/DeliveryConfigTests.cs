using Junction.Config;
using Junction.Dispatch;

namespace Junction.Tests.Config;

/// <summary><c>delivery: realtime | batch</c> and <c>batch: { max, every }</c> on event destinations (R5.6).</summary>
public sealed class DeliveryConfigTests
{
    private const string Base = """
        sources:
          stripe-main:
            provider: stripe
            secrets: ["whsec_live_3f9a0c1e7b2d4a68"]

        """;

    private static readonly Dictionary<string, string> Env = new(StringComparer.Ordinal)
    {
        ["KIT_API_KEY"] = "kit_live_key_123",
        ["HOOK_SECRET"] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        ["GA4_SECRET"] = "ga4_api_secret",
        ["MP_USER"] = "sa.user",
        ["MP_SECRET"] = "sa-secret",
        ["HS_TOKEN"] = "pat-na1-0000",
    };

    private const string Ga4 = """
          ga:
            type: ga4
            measurement_id: G-ABC123
            credentials: { api_secret: "${GA4_SECRET}" }

        """;

    private const string Mixpanel = """
          mp:
            type: mixpanel
            project_id: "12345"
            credentials: { username: "${MP_USER}", secret: "${MP_SECRET}" }

        """;

    private const string Hook = """
          hook:
            type: webhook
            base_url: https://hooks.example.com/junction
            credentials: { secret: "${HOOK_SECRET}" }

        """;

    private static JunctionConfig Parse(string yaml) =>
        ConfigLoader.Parse(Base + yaml, "/etc/junction/junction.yaml", name => Env.GetValueOrDefault(name));

    private static Dictionary<string, string> Errors(string yaml) =>
        Assert.Throws<ConfigException>(() => Parse(yaml)).Errors.ToDictionary(e => e.Path, e => e.Message, StringComparer.Ordinal);

    [Fact]
    public void Ga4AndMixpanel_DefaultToBatch_AtTheirApiLimit_Every30s_AndWebhookToRealtime()
    {
        var d = Parse("destinations:\n" + Ga4 + Mixpanel + Hook).Destinations;

        Assert.Equal(new DeliveryBatch { Max = 25, Every = TimeSpan.FromSeconds(30) }, d["ga"].Batch);
        Assert.Equal(new DeliveryBatch { Max = 2000, Every = TimeSpan.FromSeconds(30) }, d["mp"].Batch);
        Assert.Null(d["hook"].Batch);
    }

    [Fact]
    public void DeliveryAndBatch_AreReadFromConfig_BothWays()
    {
        var d = Parse("destinations:\n" + Ga4 + "    delivery: realtime\n" + Mixpanel + "    batch: { max: 500, every: 2m }\n"
            + Hook + "    delivery: batch\n    batch: { every: 10s }\n").Destinations;

        Assert.Null(d["ga"].Batch);
        Assert.Equal(new DeliveryBatch { Max = 500, Every = TimeSpan.FromMinutes(2) }, d["mp"].Batch);
        // No API limit known for a webhook receiver: 25 by default.
        Assert.Equal(new DeliveryBatch { Max = 25, Every = TimeSpan.FromSeconds(10) }, d["hook"].Batch);
    }

    [Fact]
    public void BadDeliverySettings_AreErrorsAtTheirKeyPaths_SayingWhatWasExpected()
    {
        var errors = Errors("destinations:\n"
            + Ga4 + "    batch: { max: 26, every: soon, size: 3 }\n"
            + Mixpanel + "    delivery: hourly\n"
            + Hook + "    delivery: realtime\n    batch: { max: 0 }\n"
            + """
              kit-main:
                type: kit
                credentials: { api_key: "${KIT_API_KEY}" }
                delivery: batch
            """);

        Assert.Equal("expected a whole number of events from 1 to 25 (the ga4 API's limit per request); got '26'", errors["destinations.ga.batch.max"]);
        Assert.Contains("expected a duration", errors["destinations.ga.batch.every"], StringComparison.Ordinal);
        Assert.Contains("got 'soon'", errors["destinations.ga.batch.every"], StringComparison.Ordinal);
        Assert.StartsWith("unknown key", errors["destinations.ga.batch.size"], StringComparison.Ordinal);
        Assert.Equal("expected realtime or batch; got 'hourly'", errors["destinations.mp.delivery"]);
        Assert.Contains("applies only with delivery: batch", errors["destinations.hook.batch"], StringComparison.Ordinal);
        Assert.Equal("expected a whole number of events from 1 to 10000; got '0'", errors["destinations.hook.batch.max"]);
        Assert.Contains("does not apply to type kit", errors["destinations.kit-main.delivery"], StringComparison.Ordinal);
        Assert.Equal(7, errors.Count);
    }

    [Fact]
    public void Delivery_OnADestinationThatReceivesEventsOnlyWithAnOption_DependsOnThatOption()
    {
        var d = Parse("""
            destinations:
              crm:
                type: hubspot
                credentials: { access_token: "${HS_TOKEN}" }
                deals: true
                delivery: batch
            """).Destinations;
        Assert.Equal(new DeliveryBatch { Max = 25, Every = TimeSpan.FromSeconds(30) }, d["crm"].Batch);

        var errors = Errors("""
            destinations:
              crm:
                type: hubspot
                credentials: { access_token: "${HS_TOKEN}" }
                delivery: batch
            """);
        Assert.Equal("applies only when the destination receives events; with the options set here, type hubspot does not",
            Assert.Single(errors).Value);
        Assert.Equal("destinations.crm.delivery", errors.Single().Key);
    }

    [Theory]
    [InlineData("order.paid", true)]
    [InlineData("order.refunded", true)]
    [InlineData("access.granted", true)]
    [InlineData("access.revoked", true)]
    [InlineData("optin", false)]
    [InlineData("checkout.started", false)]
    [InlineData("subscription.renewed", false)]
    public void PurchasesRefundsAndAccess_AreRealTime_OtherEventsMayWait(string type, bool realTime) =>
        Assert.Equal(realTime, DeliveryBatch.IsRealTime(type));
}
