using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Junction.Config;
using Junction.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Junction.Tests.Audit;

/// <summary>
/// Payment read-back against a stateful fake of Stripe's event list (pages, a 429 first): a payment
/// Stripe has and the ledger lacks is a missed webhook, healed by backfilling it through intake.
/// </summary>
public abstract class PaymentReadBackTests
{
    private const string Secret = "whsec_readback_test";

    protected abstract Task<string> NewStorageAsync();

    [Fact]
    public async Task PaymentOnlyInStripesList_IsAMissedWebhook_BackfilledByTheAudit_AndGoneFromTheNextOne()
    {
        var created = TimeProvider.System.GetUtcNow().AddHours(-1).ToUnixTimeSeconds();
        var seen = StripeFixtures.Event("evt_seen", "payment_intent.succeeded", Intent("pi_seen", "seen@example.com"), created, livemode: true);
        var missed = StripeFixtures.Event("evt_missed", "payment_intent.succeeded", Intent("pi_missed", "missed@example.com"), created, livemode: true);
        var requests = 0;
        await using var stripe = await FakeApi.StartAsync(app => app.MapGet("/v1/events", (HttpRequest r, HttpResponse response) =>
        {
            if (r.Headers.Authorization.ToString() != "Bearer sk_live_readback") return Results.StatusCode(401);
            if (Interlocked.Increment(ref requests) == 1)
            {
                response.Headers.RetryAfter = "1";
                return Results.Text("""{"error":{"type":"rate_limit_error","message":"Too many requests"}}""", "application/json", statusCode: 429);
            }
            // Newest first, one event a page: has_more and starting_after page towards older ones.
            return r.Query["starting_after"].ToString() == "evt_missed"
                ? Results.Text($$"""{"object":"list","data":[{{Encoding.UTF8.GetString(seen)}}],"has_more":false,"url":"/v1/events"}""", "application/json")
                : Results.Text($$"""{"object":"list","data":[{{Encoding.UTF8.GetString(missed)}}],"has_more":true,"url":"/v1/events"}""", "application/json");
        }));

        var config = ConfigLoader.Parse($$"""
            storage: "{{await NewStorageAsync()}}"
            admin: { tokens: ["{{JunctionServer.AdminToken}}"] }
            sources:
              stripe-main: { provider: stripe, secrets: ["{{Secret}}"], api_key: "sk_live_readback", api_base_url: "{{stripe.BaseUrl}}" }
            """, "readback.yaml", _ => null);
        await using var server = await JunctionServer.StartAsync(config);
        using (var r = await server.PostStripeAsync(seen, TimeProvider.System.GetUtcNow().ToUnixTimeSeconds(), Secret, "stripe-main"))
        {
            await server.NormalizedAsync((await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!);
        }
        await Project.ProjectKit.PersonAsync(server, "/v1/people?email=seen@example.com", p => p.GetProperty("orders").GetArrayLength() == 1);

        var report = await AuditKit.RunAsync(server.Admin);
        var gaps = report.GetProperty("points")[1];
        var missedFinding = Assert.Single(gaps.GetProperty("findings").EnumerateArray(), f => f.GetProperty("kind").GetString() == "missed_payment");
        Assert.Equal(("pi_missed", "stripe-main", "backfill"), (missedFinding.GetProperty("order_id").GetString(), missedFinding.GetProperty("source").GetString(),
            missedFinding.GetProperty("heal").GetProperty("action").GetString()));
        // Queued, or already healed when the backfill reached the ledger before this read.
        Assert.Contains(missedFinding.GetProperty("heal").GetProperty("status").GetString(), new[] { "queued", "healed" });
        Assert.Equal(2 * 4900, gaps.GetProperty("revenue_at_risk").GetProperty("USD").GetInt64()); // the missed payment, and pi_seen's buyer was no lead
        Assert.True(requests >= 3, $"the 429 was waited out and both pages read ({requests} requests)");

        // The heal went through intake: the missed payment is in the ledger now, so the next audit is clean.
        var person = await Project.ProjectKit.PersonAsync(server, "/v1/people?email=missed@example.com", p => p.GetProperty("orders").GetArrayLength() == 1);
        Assert.Equal("pi_missed", person.GetProperty("orders")[0].GetProperty("order_id").GetString());
        var healed = await server.Admin.GetFromJsonAsync<JsonElement>($"/v1/audits/{report.GetProperty("id").GetString()}");
        var backfilled = Assert.Single(healed.GetProperty("points")[1].GetProperty("findings").EnumerateArray(), f => f.GetProperty("kind").GetString() == "missed_payment");
        Assert.Equal("healed", backfilled.GetProperty("heal").GetProperty("status").GetString()); // its order is in the ledger now
        var next = await AuditKit.RunAsync(server.Admin);
        Assert.DoesNotContain(next.GetProperty("points")[1].GetProperty("findings").EnumerateArray(), f => f.GetProperty("kind").GetString() == "missed_payment");
    }

    [Fact]
    public async Task AuditApiCalls_CountStripeRequests_NotTheEventsTheyListed()
    {
        // Five payments on one page, after one 429: two requests, whatever the number of events.
        var created = TimeProvider.System.GetUtcNow().AddHours(-1).ToUnixTimeSeconds();
        var events = string.Join(",", Enumerable.Range(1, 5).Select(i =>
            Encoding.UTF8.GetString(StripeFixtures.Event($"evt_{i}", "payment_intent.succeeded", Intent($"pi_{i}", $"buyer{i}@example.com"), created, livemode: true))));
        var requests = 0;
        await using var stripe = await FakeApi.StartAsync(app => app.MapGet("/v1/events", (HttpResponse response) =>
        {
            if (Interlocked.Increment(ref requests) == 1)
            {
                response.Headers.RetryAfter = "1";
                return Results.Text("""{"error":{"type":"rate_limit_error","message":"Too many requests"}}""", "application/json", statusCode: 429);
            }
            return Results.Text($$"""{"object":"list","data":[{{events}}],"has_more":false,"url":"/v1/events"}""", "application/json");
        }));
        var config = ConfigLoader.Parse($$"""
            storage: "{{await NewStorageAsync()}}"
            admin: { tokens: ["{{JunctionServer.AdminToken}}"] }
            sources:
              stripe-main: { provider: stripe, secrets: ["{{Secret}}"], api_key: "sk_live_readback", api_base_url: "{{stripe.BaseUrl}}" }
            audits: { heal: false }
            """, "readback.yaml", _ => null);
        await using var server = await JunctionServer.StartAsync(config);

        var report = await AuditKit.RunAsync(server.Admin);

        Assert.Equal(5, report.GetProperty("points")[1].GetProperty("findings").EnumerateArray().Count(f => f.GetProperty("kind").GetString() == "missed_payment"));
        Assert.Equal(2, requests);
        Assert.Equal(requests, report.GetProperty("api_calls").GetInt32());
    }

    private static string Intent(string id, string email) => $$"""
        {"id":"{{id}}","object":"payment_intent","amount":4900,"amount_received":4900,"currency":"usd","customer":"cus_{{id}}",
         "receipt_email":"{{email}}","metadata":{},"status":"succeeded","latest_charge":"ch_{{id}}","livemode":true}
        """;

}

public sealed class SqlitePaymentReadBackTests : PaymentReadBackTests
{
    protected override Task<string> NewStorageAsync() => Task.FromResult(TestStorage.NewSqlite());
}

public sealed class PostgresPaymentReadBackTests : PaymentReadBackTests
{
    protected override Task<string> NewStorageAsync() => TestStorage.NewPostgresAsync();
}
