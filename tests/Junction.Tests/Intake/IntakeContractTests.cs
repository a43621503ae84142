using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Junction.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Junction.Tests.Intake;

/// <summary>
/// POST /v1/hooks/{source} and the admin read API, over a real socket, against each real engine.
/// </summary>
public abstract class IntakeContractTests : IAsyncLifetime
{
    protected readonly FakeTimeProvider Time = new(new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero));
    private JunctionServer? _server;

    protected abstract Task<string> NewStorageAsync();

    protected JunctionServer Server => _server!;

    private long Now => Time.GetUtcNow().ToUnixTimeSeconds();

    public async ValueTask InitializeAsync() =>
        _server = await JunctionServer.StartAsync(JunctionServer.Config(await NewStorageAsync(), maxBodyBytes: 64 * 1024), Time);

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    private static async Task<JsonElement> Json(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    private static async Task AssertProblem(HttpResponseMessage response, HttpStatusCode status, string detailContains)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await Json(response);
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.Contains(detailContains, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task StripeEvent_IsAcknowledgedAfterStoring_WithIdAndTraceId()
    {
        var body = Payloads.StripePaymentIntentSucceeded("evt_1NG8Du2eZvKYlo2CUI79vXWy");
        using var response = await Server.PostStripeAsync(body, Now);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var ack = await Json(response);
        Assert.False(ack.GetProperty("duplicate").GetBoolean());
        Assert.Matches("^[0-9a-f]{32}$", ack.GetProperty("trace_id").GetString());

        var stored = Assert.Single(await Server.AllRawEventsAsync("stripe-main"));
        Assert.Equal(ack.GetProperty("id").GetString(), stored.GetProperty("id").GetString());
        Assert.Equal("evt_1NG8Du2eZvKYlo2CUI79vXWy", stored.GetProperty("dedup_key").GetString());
        Assert.Equal(ack.GetProperty("trace_id").GetString(), stored.GetProperty("trace_id").GetString());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(body)), stored.GetProperty("body_sha256").GetString());
        Assert.Equal("2026-11-22T12:00:00Z", stored.GetProperty("received_at").GetString());
    }

    [Fact]
    public async Task StripeEvent_SignedWithThePreviousSecret_IsAcceptedDuringRotation()
    {
        var body = Payloads.StripePaymentIntentSucceeded("evt_rotated");
        using var response = await Server.PostStripeAsync(body, Now, JunctionServer.StripeOldSecret);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task StripeEvent_WithOneSignaturePerActiveSecret_IsAccepted()
    {
        var body = Payloads.StripePaymentIntentSucceeded("evt_two_sigs");
        var unknown = Sign.Stripe("whsec_some_other_endpoint", body, Now);
        var current = Sign.Stripe(JunctionServer.StripeSecret, body, Now);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/hooks/stripe-main") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation("Stripe-Signature", $"{unknown},{current.Split(',')[1]}");
        using var response = await Server.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task SameStripeEventTwice_IsADuplicateWithTheFirstId_AndStoredOnce()
    {
        var body = Payloads.StripePaymentIntentSucceeded("evt_dup");
        using var first = await Server.PostStripeAsync(body, Now);
        Time.Advance(TimeSpan.FromMinutes(1)); // Stripe re-signs each retry with a fresh timestamp
        using var second = await Server.PostStripeAsync(body, Now);

        var a = await Json(first);
        var b = await Json(second);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.True(b.GetProperty("duplicate").GetBoolean());
        Assert.Equal(a.GetProperty("id").GetString(), b.GetProperty("id").GetString());
        Assert.Single(await Server.AllRawEventsAsync("stripe-main"));
    }

    [Fact]
    public async Task ThirtyConcurrentCopies_StoreExactlyOneEvent()
    {
        var body = Payloads.StripePaymentIntentSucceeded("evt_flood");
        var responses = await Task.WhenAll(Enumerable.Range(0, 30).Select(async _ =>
        {
            using var r = await Server.PostStripeAsync(body, Now);
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            return await Json(r);
        }));

        Assert.Single(responses, r => !r.GetProperty("duplicate").GetBoolean());
        Assert.Single(responses.Select(r => r.GetProperty("id").GetString()).Distinct());
        Assert.Single(await Server.AllRawEventsAsync("stripe-main"));
    }

    [Fact]
    public async Task TamperedBody_Is401_AndNothingEntersTheLog()
    {
        var body = Payloads.StripePaymentIntentSucceeded("evt_tampered");
        var signature = Sign.Stripe(JunctionServer.StripeSecret, body, Now);
        var tampered = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(body).Replace("4900", "1", StringComparison.Ordinal));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/hooks/stripe-main") { Content = new ByteArrayContent(tampered) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation("Stripe-Signature", signature);
        using var response = await Server.Client.SendAsync(request);

        await AssertProblem(response, HttpStatusCode.Unauthorized, "Stripe-Signature");
        Assert.Empty(await Server.AllRawEventsAsync());
    }

    [Fact]
    public async Task StaleTimestamp_Is401_EvenWithAValidSignature()
    {
        var body = Payloads.StripePaymentIntentSucceeded("evt_stale");
        using var response = await Server.PostStripeAsync(body, Now - 301);
        await AssertProblem(response, HttpStatusCode.Unauthorized, "tolerance is 300 s");
        Assert.Equal("stale_timestamp", (await Json(response)).GetProperty("reason").GetString());
        Assert.Empty(await Server.AllRawEventsAsync());
    }

    [Fact]
    public async Task MissingSignature_Is401()
    {
        using var response = await Server.Client.PostAsync("/v1/hooks/stripe-main",
            new StringContent("{\"id\":\"evt_nosig\"}", Encoding.UTF8, "application/json"));
        await AssertProblem(response, HttpStatusCode.Unauthorized, "Stripe-Signature is missing");
        Assert.Empty(await Server.AllRawEventsAsync());
    }

    [Fact]
    public async Task Refusals_AreCountedAndLogged_WithoutBodiesOrCredentials()
    {
        var body = Payloads.StripePaymentIntentSucceeded("evt_forged");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/hooks/stripe-main") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation("Stripe-Signature", Sign.Stripe("whsec_attacker", body, Now));
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer leaked-credential");
        request.Headers.TryAddWithoutValidation("X-Api-Key", "another-credential");
        (await Server.Client.SendAsync(request)).Dispose();

        var rejections = await WaitForAsync(async () =>
        {
            var page = await Server.Admin.GetFromJsonAsync<JsonElement>("/v1/rejections?source=stripe-main");
            return page.GetProperty("items").GetArrayLength() > 0 ? page : (JsonElement?)null;
        });
        var rejection = rejections.GetProperty("items")[0];
        Assert.Equal("bad_signature", rejection.GetProperty("reason").GetString());
        var raw = rejection.GetRawText();
        Assert.DoesNotContain("leaked-credential", raw, StringComparison.Ordinal);
        Assert.DoesNotContain("another-credential", raw, StringComparison.Ordinal);
        Assert.DoesNotContain("Lovelace", raw, StringComparison.OrdinalIgnoreCase);
        Assert.True(rejection.GetProperty("headers").TryGetProperty("stripe-signature", out _));

        // The scrape endpoint may answer from its short response cache: read until the refusal shows.
        var pattern = "junction_intake_rejected_total\\{[^}]*reason=\"bad_signature\"[^}]*source=\"stripe-main\"[^}]*\\} 1";
        var metrics = "";
        for (var i = 0; i < 50 && !System.Text.RegularExpressions.Regex.IsMatch(metrics, pattern); i++)
        {
            if (i > 0) await Task.Delay(100);
            metrics = await Server.Client.GetStringAsync("/metrics");
        }
        Assert.Matches(pattern, metrics);
    }

    [Fact]
    public async Task ShopifyWebhook_IsVerified_AndDeduplicatedByItsSignedBody_EvenUnderAFreshWebhookId()
    {
        async Task<HttpResponseMessage> Post(byte[] body, string webhookId, string secret = JunctionServer.ShopifySecret, string topic = "orders/paid")
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/hooks/shop") { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            request.Headers.TryAddWithoutValidation("X-Shopify-Hmac-Sha256", Sign.Shopify(secret, body));
            request.Headers.TryAddWithoutValidation("X-Shopify-Topic", topic);
            request.Headers.TryAddWithoutValidation("X-Shopify-Shop-Domain", "creator.myshopify.com");
            request.Headers.TryAddWithoutValidation("X-Shopify-Webhook-Id", webhookId);
            request.Headers.TryAddWithoutValidation("X-Shopify-Triggered-At", "2026-11-22T12:00:00.000Z");
            return await Server.Client.SendAsync(request);
        }

        var body = Payloads.ShopifyOrderPaid(820982911946154508);
        using var first = await Post(body, "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043");
        using var retry = await Post(body, "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043");
        // The webhook id is unsigned: the same signed body under a fresh id is a replay, not a new event.
        using var replay = await Post(body, "9f4c1f45-0000-4b37-8a5f-bf7d70bcd043");
        using var relabelled = await Post(body, "9f4c1f45-1111-4b37-8a5f-bf7d70bcd043", topic: "refunds/create");
        using var forged = await Post(body, "forged-id", "not-the-secret");

        var accepted = await Json(first);
        Assert.False(accepted.GetProperty("duplicate").GetBoolean());
        Assert.True((await Json(retry)).GetProperty("duplicate").GetBoolean());
        var replayed = await Json(replay);
        Assert.True(replayed.GetProperty("duplicate").GetBoolean());
        Assert.Equal(accepted.GetProperty("id").GetString(), replayed.GetProperty("id").GetString());
        await AssertProblem(relabelled, HttpStatusCode.Unauthorized, "X-Shopify-Topic");
        await AssertProblem(forged, HttpStatusCode.Unauthorized, "X-Shopify-Hmac-Sha256");
        var stored = Assert.Single(await Server.AllRawEventsAsync("shop"));
        Assert.StartsWith("orders/paid:820982911946154508", stored.GetProperty("dedup_key").GetString(), StringComparison.Ordinal);
    }

    private async Task<HttpResponseMessage> PostStandard(byte[] body, string id, long timestamp, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/hooks/std") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        request.Headers.TryAddWithoutValidation("webhook-id", id);
        request.Headers.TryAddWithoutValidation("webhook-timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.TryAddWithoutValidation("webhook-signature",
            $"v1,Zm9yZ2VkLXNpZ25hdHVyZS1mb3ItYW4tb2xkLXNlY3JldA== {Sign.StandardWebhooks(JunctionServer.StandardSecret, id, timestamp, body)}");
        return await Server.Client.SendAsync(request);
    }

    [Fact]
    public async Task StandardWebhook_IsVerified_DeduplicatedByWebhookId_AndRefusedWhenStale()
    {
        var body = Payloads.StandardWebhooksEvent("contact.created");
        using var first = await PostStandard(body, "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", Now);
        using var retry = await PostStandard(body, "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", Now + 30);
        using var stale = await PostStandard(body, "msg_stale", Now - 600);
        using var future = await PostStandard(body, "msg_future", Now + 600);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.True((await Json(retry)).GetProperty("duplicate").GetBoolean());
        await AssertProblem(stale, HttpStatusCode.Unauthorized, "webhook-timestamp");
        await AssertProblem(future, HttpStatusCode.Unauthorized, "webhook-timestamp");
        Assert.Equal(["msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"],
            (await Server.AllRawEventsAsync("std")).Select(s => s.GetProperty("dedup_key").GetString()));
    }

    [Fact]
    public async Task FormEncodedBody_IsAccepted()
    {
        var body = Encoding.UTF8.GetBytes("type=subscribe&data%5Bemail%5D=lead%40example.com");
        using var response = await PostStandard(body, "msg_form", Now, "application/x-www-form-urlencoded");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task UnknownSource_Is404Problem()
    {
        using var response = await Server.Client.PostAsync("/v1/hooks/nope", new StringContent("{}", Encoding.UTF8, "application/json"));
        await AssertProblem(response, HttpStatusCode.NotFound, "No source 'nope'");
    }

    [Fact]
    public async Task UnsupportedContentType_Is415Problem()
    {
        using var response = await Server.Client.PostAsync("/v1/hooks/stripe-main", new StringContent("<xml/>", Encoding.UTF8, "text/xml"));
        await AssertProblem(response, HttpStatusCode.UnsupportedMediaType, "text/xml");
    }

    [Fact]
    public async Task BodyOverTheSourceLimit_Is413_WithOrWithoutContentLength()
    {
        var big = new byte[64 * 1024 + 1];
        Array.Fill(big, (byte)'a');
        using var declared = new ByteArrayContent(big);
        declared.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await Server.Client.PostAsync("/v1/hooks/stripe-main", declared);
        await AssertProblem(response, HttpStatusCode.RequestEntityTooLarge, "65536 bytes");

        using var chunked = new StreamContent(new MemoryStream(big));
        chunked.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/hooks/stripe-main") { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        using var chunkedResponse = await Server.Client.SendAsync(request);
        await AssertProblem(chunkedResponse, HttpStatusCode.RequestEntityTooLarge, "65536 bytes");
        Assert.Empty(await Server.AllRawEventsAsync());
    }

    [Fact]
    public async Task VerifiedBodyWithoutAnEventId_IsKeptUnderItsHash_NotLost()
    {
        var body = Encoding.UTF8.GetBytes("{\"object\":\"event\",\"type\":\"charge.succeeded\"}");
        using var response = await Server.PostStripeAsync(body, Now);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var stored = Assert.Single(await Server.AllRawEventsAsync());
        Assert.Equal("sha256:" + Convert.ToHexStringLower(SHA256.HashData(body)), stored.GetProperty("dedup_key").GetString());
    }

    [Fact]
    public async Task RawEvents_NeedsAnAdminToken()
    {
        using var none = await Server.Client.GetAsync("/v1/raw-events");
        await AssertProblem(none, HttpStatusCode.Unauthorized, "Authorization: Bearer");
        Assert.Equal("Bearer", none.Headers.WwwAuthenticate.Single().Scheme);

        using var wrong = new HttpRequestMessage(HttpMethod.Get, "/v1/raw-events");
        wrong.Headers.Authorization = new AuthenticationHeaderValue("Bearer", JunctionServer.AdminToken + "x");
        using var wrongResponse = await Server.Client.SendAsync(wrong);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongResponse.StatusCode);
    }

    [Fact]
    public async Task RawEvents_PagesInLogOrder_AndValidatesItsParameters()
    {
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            using var r = await Server.PostStripeAsync(Payloads.StripePaymentIntentSucceeded($"evt_page_{i}"), Now);
            ids.Add((await Json(r)).GetProperty("id").GetString()!);
        }

        var page1 = await Server.Admin.GetFromJsonAsync<JsonElement>("/v1/raw-events?source=stripe-main&limit=2");
        Assert.Equal(ids[..2], page1.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()));
        var page2 = await Server.Admin.GetFromJsonAsync<JsonElement>($"/v1/raw-events?source=stripe-main&limit=2&after={page1.GetProperty("next").GetString()}");
        Assert.Equal(ids[2..4], page2.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()));
        Assert.Equal(ids, (await Server.AllRawEventsAsync("stripe-main")).Select(i => i.GetProperty("id").GetString()));

        await AssertProblem(await Server.Admin.GetAsync("/v1/raw-events?limit=0"), HttpStatusCode.BadRequest, "limit:");
        await AssertProblem(await Server.Admin.GetAsync("/v1/raw-events?limit=abc"), HttpStatusCode.BadRequest, "limit:");
        await AssertProblem(await Server.Admin.GetAsync("/v1/raw-events?after=garbage"), HttpStatusCode.BadRequest, "after:");
        await AssertProblem(await Server.Admin.GetAsync("/v1/raw-events?source=nope"), HttpStatusCode.BadRequest, "source:");
    }

    [Fact]
    public async Task Metrics_CountAcceptedAndDuplicateEventsPerSource_WithALatencyHistogram()
    {
        var body = Payloads.StripePaymentIntentSucceeded("evt_metrics");
        (await Server.PostStripeAsync(body, Now)).Dispose();
        (await Server.PostStripeAsync(body, Now)).Dispose();

        var metrics = await Server.Client.GetStringAsync("/metrics");
        Assert.Matches("junction_intake_accepted_total\\{[^}]*source=\"stripe-main\"[^}]*\\} 1", metrics);
        Assert.Matches("junction_intake_duplicates_total\\{[^}]*source=\"stripe-main\"[^}]*\\} 1", metrics);
        Assert.Matches("junction_intake_duration_seconds_count\\{[^}]*source=\"stripe-main\"[^}]*\\} 2", metrics);
    }

    [Fact]
    public async Task Health_And_Readiness_Answer()
    {
        using var health = await Server.Client.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        using var ready = await Server.Client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("ready", (await Json(ready)).GetProperty("status").GetString());
    }

    private static async Task<JsonElement> WaitForAsync(Func<Task<JsonElement?>> probe)
    {
        for (var i = 0; i < 100; i++)
        {
            if (await probe() is { } found) return found;
            await Task.Delay(50);
        }
        throw new TimeoutException("the condition did not hold within 5 s");
    }
}

// Exact /metrics values: scraped alone (every live server's meters show in every scrape).
[Collection(Junction.Tests.Telemetry.ScrapedAlone.Name)]
public sealed class SqliteIntakeContractTests : IntakeContractTests
{
    protected override Task<string> NewStorageAsync() => Task.FromResult(TestStorage.NewSqlite());
}

// Exact /metrics values: scraped alone (every live server's meters show in every scrape).
[Collection(Junction.Tests.Telemetry.ScrapedAlone.Name)]
public sealed class PostgresIntakeContractTests : IntakeContractTests
{
    protected override Task<string> NewStorageAsync() => TestStorage.NewPostgresAsync();
}
