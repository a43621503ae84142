using System.Text;
using Junction.Config;
using Junction.Providers;
using Junction.Integrations.PayPal;
using Junction.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Junction.Tests.Providers.PayPal;

/// <summary>PayPal sources in junction.yaml, and PayPal's API as Junction calls it (OAuth token, event list backfill).</summary>
public sealed class PayPalConfigAndApiTests
{
    private static JunctionConfig Parse(string yaml) => ConfigLoader.Parse(yaml, "/etc/junction/junction.yaml", _ => null);

    [Fact]
    public void Config_AcceptsPayPalSourcesWithoutSecrets_AndReadsTheirOptions()
    {
        var config = Parse("""
            storage: sqlite:/tmp/junction.db
            admin:
              tokens: [t0123456789abcdef]
            sources:
              paypal:
                provider: paypal
                webhook_id: 8PT597110X687430LKGECATA
                api_base_url: https://api-m.sandbox.paypal.com
                client_id: AYSq3RDGsmBLJE-otTkBtM
                client_secret: ECYYrrSHdKfk
              ipn:
                provider: paypal-ipn
                receiver_email: seller@example.com
            """);

        Assert.Equal("8PT597110X687430LKGECATA", config.Sources["paypal"].Option("webhook_id"));
        Assert.Equal("seller@example.com", config.Sources["ipn"].Option("receiver_email"));
        Assert.Empty(config.Sources["paypal"].Secrets);
    }

    [Fact]
    public void Config_RequiresWebhookId_AndRefusesSecretsPayPalWouldNeverUse()
    {
        var errors = Assert.Throws<ConfigException>(() => Parse("""
            storage: sqlite:/tmp/junction.db
            admin:
              tokens: [t0123456789abcdef]
            sources:
              paypal:
                provider: paypal
                secrets: ["whsec_x"]
            """)).Errors.Select(e => e.ToString()).ToList();

        Assert.Contains(errors, e => e.Contains("sources.paypal.webhook_id", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("sources.paypal.secrets[0]", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("client_id: AYSq3RDGsmBLJE-otTkBtM", "sources.paypal.client_secret")]
    [InlineData("client_secret: ECYYrrSHdKfk", "sources.paypal.client_id")]
    public void Config_RefusesHalfAPairOfClientCredentials_NamingTheMissingKey(string given, string missing)
    {
        var errors = Assert.Throws<ConfigException>(() => Parse($"""
            storage: sqlite:/tmp/junction.db
            admin:
              tokens: [t0123456789abcdef]
            sources:
              paypal:
                provider: paypal
                webhook_id: 8PT597110X687430LKGECATA
                {given}
            """)).Errors.Select(e => e.ToString()).ToList();

        Assert.Contains(errors, e => e.Contains(missing, StringComparison.Ordinal) && e.Contains("required when", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Backfill_PagesThroughTheEventList_SendingTheTokenOnlyToTheConfiguredHost()
    {
        var page1 = $$"""
            {"events":[{{PayPalFixtures.CaptureCompleted()}},{{PayPalFixtures.CaptureRefunded()}}],
             "count":2,
             "links":[{"href":"https://api-m.paypal.com/v1/notifications/webhooks-events?page_size=300&start_time=2026-11-01T00%3A00%3A00Z&next_page_token=2","rel":"next","method":"GET"}]}
            """;
        var page2 = $$"""{"events":[{{PayPalFixtures.DisputeCreated}}],"count":1,"links":[]}""";
        await using var paypal = await FakeApi.StartAsync(app =>
        {
            app.MapPost("/v1/oauth2/token", () => Results.Json(new { access_token = "A21AAFtoken", token_type = "Bearer", expires_in = 32400 }));
            app.MapGet("/v1/notifications/webhooks-events", (HttpRequest r) =>
                r.Headers.Authorization.ToString() != "Bearer A21AAFtoken" ? Results.StatusCode(401)
                : Results.Text(r.Query.ContainsKey("next_page_token") ? page2 : page1, "application/json"));
        });
        var source = new SourceConfig
        {
            Id = "paypal", Provider = "paypal", Secrets = [],
            Options = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["webhook_id"] = PayPalFixtures.WebhookId, ["api_base_url"] = paypal.BaseUrl.ToString(), ["client_id"] = "client-abc", ["client_secret"] = "secret-xyz",
            },
        };
        var api = new PayPalApi();
        using var http = new HttpClient();

        var items = new List<BackfillItem>();
        await foreach (var item in api.PullAsync(new ProviderApiClient(http, source, api, TimeProvider.System), new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero), CancellationToken.None))
        {
            items.Add(item);
        }

        Assert.Equal(["WH-2CL46544TB770421K-5VB92446WP7345818", "WH-1GE84257G0350133W-6RW800890C634293G", "WH-4M0448861G563140B-9EX36365822141321"],
            items.Select(i => i.DedupKey));
        Assert.Contains("\"event_type\": \"CUSTOMER.DISPUTE.CREATED\"", Encoding.UTF8.GetString(items[2].Body), StringComparison.Ordinal);
        Assert.Equal("application/json", items[0].ContentType);
        Assert.Equal(1, paypal.Count("POST /v1/oauth2/token"));
        Assert.Equal(1, paypal.Count("GET /v1/notifications/webhooks-events?page_size=300&start_time=2026-11-01T00%3A00%3A00Z&next_page_token=2"));
    }

    [Fact]
    public async Task Token_RefusedByPayPal_IsAPermanentApiError_AndAMissingSecretNeverCallsPayPal()
    {
        await using var paypal = await FakeApi.StartAsync(app =>
            app.MapPost("/v1/oauth2/token", () => Results.Json(new { error = "invalid_client", error_description = "Client Authentication failed" }, statusCode: 401)));
        var api = new PayPalApi();
        using var http = new HttpClient();
        var options = new Dictionary<string, string>(StringComparer.Ordinal) { ["api_base_url"] = paypal.BaseUrl.ToString(), ["client_id"] = "client-abc" };
        var noSecret = new SourceConfig { Id = "paypal", Provider = "paypal", Secrets = [], Options = options };
        var wrongSecret = noSecret with { Options = new Dictionary<string, string>(options) { ["client_secret"] = "wrong" } };

        var missing = await Assert.ThrowsAsync<ProviderApiException>(() => api.AccessTokenAsync(noSecret, http, CancellationToken.None));
        Assert.Equal(0, paypal.Count("POST"));
        var refused = await Assert.ThrowsAsync<ProviderApiException>(() => api.AccessTokenAsync(wrongSecret, http, CancellationToken.None));

        Assert.False(missing.IsTransient);
        Assert.Contains("sources.paypal.client_secret", missing.Message, StringComparison.Ordinal);
        Assert.False(refused.IsTransient);
        Assert.Contains("401", refused.Message, StringComparison.Ordinal);
    }
}
