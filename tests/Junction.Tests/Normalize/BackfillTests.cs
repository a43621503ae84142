using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Junction.Config;
using Junction.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Junction.Tests.Normalize;

/// <summary>
/// `junction backfill` against faked provider APIs: a webhook that was missed becomes an event;
/// one already seen becomes nothing.
/// </summary>
public sealed class BackfillTests
{
    private static async Task<string> WriteConfig(string dir, string storage, string sourceYaml)
    {
        var file = Path.Combine(dir, "junction.yaml");
        await File.WriteAllTextAsync(file, $"storage: \"{storage}\"\nadmin:\n  tokens: [\"{JunctionServer.AdminToken}\"]\nsources:\n{sourceYaml}");
        return file;
    }

    [Fact]
    public async Task StripeBackfill_FindsTheMissedEvent_AndIgnoresTheOneAlreadySeen()
    {
        const string secret = "whsec_backfill";
        var seen = StripeFixtures.Event("evt_seen", "charge.refunded", StripeFixtures.Charge(4900, true, "re_seen", 4900));
        var missed = StripeFixtures.Event("evt_missed", "charge.dispute.created", StripeFixtures.Dispute("needs_response"));
        var older = StripeFixtures.Event("evt_older", "product.created", """{"id":"prod_1","object":"product"}""");
        var pages = new List<string>();
        await using var stripe = await FakeApi.StartAsync(app => app.MapGet("/v1/events", (HttpRequest r) =>
        {
            pages.Add(r.QueryString.Value!);
            if (r.Headers.Authorization.ToString() != "Bearer sk_test_bf") return Results.StatusCode(401);
            var after = r.Query["starting_after"].ToString();
            // Stripe lists newest first; has_more and starting_after page towards older events.
            return after.Length == 0
                ? Results.Text($$"""{"object":"list","data":[{{Encoding.UTF8.GetString(missed)}},{{Encoding.UTF8.GetString(seen)}}],"has_more":true,"url":"/v1/events"}""", "application/json")
                : Results.Text($$"""{"object":"list","data":[{{Encoding.UTF8.GetString(older)}}],"has_more":false,"url":"/v1/events"}""", "application/json");
        }));

        var dir = TestStorage.NewTempDirectory();
        var storage = "sqlite:" + Path.Combine(dir, "junction.db");
        var config = await WriteConfig(dir, storage,
            $"  stripe:\n    provider: stripe\n    secrets: [\"{secret}\"]\n    api_key: \"sk_test_bf\"\n    api_base_url: \"{stripe.BaseUrl}\"\n");
        await using (var server = await JunctionServer.StartAsync(ConfigLoader.LoadFile(config)))
        {
            using var r = await server.PostStripeAsync(seen, TimeProvider.System.GetUtcNow().ToUnixTimeSeconds(), secret, "stripe");
            await server.NormalizedAsync((await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!);
        }

        var (code, output) = await JunctionProcess.RunAsync(dir, new Dictionary<string, string?> { ["JUNCTION_STORAGE"] = null },
            "backfill", "--config", config, "--source", "stripe", "--since", "7d");
        Assert.True(code == 0, output);
        Assert.Contains("3 fetched, 2 new, 1 already seen", output, StringComparison.Ordinal);
        Assert.Equal(2, pages.Count);
        Assert.Contains("starting_after=evt_seen", pages[1], StringComparison.Ordinal);
        Assert.Contains("created[gte]=", Uri.UnescapeDataString(pages[0]), StringComparison.Ordinal);

        await using var after = await JunctionServer.StartAsync(ConfigLoader.LoadFile(config));
        var events = await after.Admin.GetFromJsonAsync<JsonElement>("/v1/events?source=stripe");
        var types = events.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("type").GetString()).ToList();
        Assert.Equal(["order.refunded", "chargeback.opened"], types);
    }

    [Fact]
    public async Task ShopifyBackfill_FollowsTheLinkHeader_AndCollapsesWithWebhooksByOrder()
    {
        const string secret = "shpss_bf";
        var order = ShopifyNormalizationTests.Order();
        var second = order.Replace("820982911946154508", "820982911946154999", StringComparison.Ordinal)
            .Replace("\"refunds\":[]", $"\"refunds\":[{ShopifyNormalizationTests.Refund().Replace("820982911946154508", "820982911946154999", StringComparison.Ordinal)}]", StringComparison.Ordinal);
        await using var shopify = await FakeApi.StartAsync(app => app.MapGet("/admin/api/2025-01/orders.json", (HttpRequest r, HttpResponse response) =>
        {
            if (r.Headers["X-Shopify-Access-Token"] != "shpat_bf") return Results.StatusCode(401);
            if (r.Query["page_info"].ToString() == "p2") return Results.Text($$"""{"orders":[{{second}}]}""", "application/json");
            response.Headers["Link"] = $"<{r.Scheme}://{r.Host}/admin/api/2025-01/orders.json?limit=250&page_info=p2>; rel=\"next\"";
            return Results.Text($$"""{"orders":[{{order}}]}""", "application/json");
        }));

        var dir = TestStorage.NewTempDirectory();
        var config = await WriteConfig(dir, "sqlite:" + Path.Combine(dir, "junction.db"),
            $"  shop:\n    provider: shopify\n    secrets: [\"{secret}\"]\n    api_key: \"shpat_bf\"\n    api_base_url: \"{shopify.BaseUrl}\"\n");
        await using (var server = await JunctionServer.StartAsync(ConfigLoader.LoadFile(config)))
        {
            var bytes = Encoding.UTF8.GetBytes(order);
            using var r = await server.PostAsync("shop", bytes, "application/json", new Dictionary<string, string>
            {
                ["X-Shopify-Hmac-Sha256"] = Sign.Shopify(secret, bytes), ["X-Shopify-Topic"] = "orders/paid", ["X-Shopify-Webhook-Id"] = "wh-1",
            });
            await server.NormalizedAsync((await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!);
        }

        var (code, output) = await JunctionProcess.RunAsync(dir, new Dictionary<string, string?> { ["JUNCTION_STORAGE"] = null },
            "backfill", "--config", config, "--source", "shop", "--since", "2026-11-01");
        Assert.True(code == 0, output);
        Assert.Contains("3 fetched, 3 new, 0 already seen", output, StringComparison.Ordinal);

        await using var after = await JunctionServer.StartAsync(ConfigLoader.LoadFile(config));
        var events = (await after.Admin.GetFromJsonAsync<JsonElement>("/v1/events?source=shop")).GetProperty("items").EnumerateArray()
            .Select(e => (e.GetProperty("type").GetString(), e.GetProperty("order").GetProperty("order_id").GetString())).ToList();
        // The first order came by webhook and again by backfill: one canonical order.paid, not two.
        Assert.Equal([("order.paid", "820982911946154508"), ("order.paid", "820982911946154999"), ("order.refunded", "820982911946154999")], events);
    }
}
