using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Junction.Canonical;
using Junction.Normalize;
using Junction.Project;
using Junction.Storage;
using Junction.Tests.Project;
using Junction.Tests.Support;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Junction.Tests.Normalize;

/// <summary>
/// One bad event must not stall a stage: the normalizer quarantines a raw event it cannot process
/// (here a JSON property name that is not UTF-8, which the drift walk used to throw on for ever; now
/// caught before the mapper, with the byte it is at for a reason),
/// and the projector isolates a canonical event its fold or identity step throws on, records it as
/// poison with the reason (GET /v1/project/poison), skips it, and takes it again on retry.
/// </summary>
public abstract class PoisonEventTests : IAsyncLifetime
{
    private JunctionServer _server = null!;
    private string _storage = "";

    protected abstract Task<string> StorageAsync();

    public async ValueTask InitializeAsync()
    {
        _storage = await StorageAsync();
        var config = ProjectKit.Config(_storage);
        config = config with { Sources = new Dictionary<string, Junction.Config.SourceConfig>(config.Sources, StringComparer.Ordinal)
        {
            ["stripe-main"] = new() { Id = "stripe-main", Provider = "stripe", Secrets = [JunctionServer.StripeSecret] },
        } };
        _server = await JunctionServer.StartAsync(config);
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task SignedWebhook_WithAPropertyNameThatIsNotUtf8_IsQuarantinedWithAReason_AndLaterEventsStillNormalize()
    {
        var good = Payloads.StripePaymentIntentSucceeded("evt_poison_good");
        // 0xC3 0x28 is not UTF-8; put it inside a key of an otherwise valid Stripe event.
        var bad = Payloads.StripePaymentIntentSucceeded("evt_poison_bad");
        var open = Array.IndexOf(bad, (byte)'{');
        bad = [.. bad[..(open + 1)], .. "\"bad"u8.ToArray(), 0xC3, 0x28, .. "key\":1,"u8.ToArray(), .. bad[(open + 1)..]];

        var now = TimeProvider.System.GetUtcNow().ToUnixTimeSeconds();
        using var badResponse = await _server.PostStripeAsync(bad, now);
        Assert.Equal(HttpStatusCode.OK, badResponse.StatusCode);
        var badId = (await badResponse.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        using var goodResponse = await _server.PostStripeAsync(good, now);
        Assert.Equal(HttpStatusCode.OK, goodResponse.StatusCode);
        var goodId = (await goodResponse.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;

        var quarantined = await _server.NormalizedAsync(badId);
        Assert.Equal("quarantined", quarantined.Status);
        Assert.Equal($"body: invalid UTF-8 at byte {open + 5}; a JSON body must be UTF-8", quarantined.Reason);
        Assert.Equal("mapped", (await _server.NormalizedAsync(goodId)).Status);

        var listed = await _server.Admin.GetFromJsonAsync<JsonElement>("/v1/quarantine");
        var item = Assert.Single(listed.GetProperty("items").EnumerateArray(), i => i.GetProperty("raw_id").GetString() == badId);
        Assert.False(string.IsNullOrEmpty(item.GetProperty("reason").GetString()));
    }

    [Fact]
    public async Task EventTheDatabaseRefuses_IsQuarantinedWithTheReason_AndTheRestOfTheBatchCommits()
    {
        // PostgreSQL's jsonb cannot hold a NUL character; the raw body (bytea) can. SQLite takes it.
        var nul = await PostEventForRawIdAsync(ProjectKit.Paid("ord\\u0000nul", "nul@example.com", "2026-11-20T11:00:00Z"));
        var fine = await PostEventForRawIdAsync(ProjectKit.OptIn("fine@example.com", "2026-11-20T11:00:01Z"));

        var refused = await _server.NormalizedAsync(nul);
        if (_storage.StartsWith("postgres:", StringComparison.Ordinal))
        {
            Assert.Equal("quarantined", refused.Status);
            Assert.Contains("the database refused", refused.Reason, StringComparison.Ordinal);
        }
        Assert.Equal("mapped", (await _server.NormalizedAsync(fine)).Status);
        await ProjectKit.PersonAsync(_server, "/v1/people?email=fine@example.com", _ => true);
    }

    private async Task<string> PostEventForRawIdAsync(string json)
    {
        using var response = await Capture.CaptureKit.PostJsonAsync(_server.Client, "/v1/events", json, bearer: Capture.CaptureKit.ApiKey);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("raw_id").GetString()!;
    }

    [Fact]
    public async Task ProjectorPoisonEvent_IsIsolatedAndListed_LaterEventsAreProjected_AndItProjectsOnRetryOnceFixed()
    {
        await ProjectKit.PostEventAsync(_server, ProjectKit.OptIn("first@example.com", "2026-11-20T09:00:00Z"));
        await ProjectKit.PersonAsync(_server, "/v1/people?email=first@example.com", _ => true);

        // A canonical event the projector cannot read (its JSON lacks the required fields), committed
        // through the store as a normalizer would, between two good ones.
        var poisonId = CanonicalEvent.MakeId("app", "poison");
        await using (var store = StoreFactory.Open(_storage, TimeProvider.System))
        {
            var e = new CanonicalEvent
            {
                Id = poisonId, RawId = "raw_poison", Source = "app", Provider = "api", Type = "optin",
                OccurredAt = TimeProvider.System.GetUtcNow(), TraceId = "t", Subject = new Subject { Email = "fixed@example.com" },
            };
            await store.CommitNormalizationAsync([new NormalizationOutcome
            {
                RawId = "raw_poison", RawSeq = 999_999, Source = "app", ProviderType = "optin", Status = NormalizationStatus.Mapped,
                Events = [(e, $"{{\"id\":\"{poisonId}\",\"broken\":true}}")],
            }], null, 0, null, CancellationToken.None);

            await ProjectKit.PostEventAsync(_server, ProjectKit.OptIn("later@example.com", "2026-11-20T10:00:00Z"));
            await ProjectKit.PersonAsync(_server, "/v1/people?email=later@example.com", _ => true);

            var poison = await _server.Admin.GetFromJsonAsync<JsonElement>("/v1/project/poison");
            var row = Assert.Single(poison.GetProperty("items").EnumerateArray());
            Assert.Equal(poisonId, row.GetProperty("event_id").GetString());
            Assert.Equal("poison", row.GetProperty("status").GetString());
            Assert.Contains("JsonException", row.GetProperty("reason").GetString(), StringComparison.Ordinal);

            // A rebuild skips exactly what the projector skipped: same state, same digest.
            var report = await new PeopleRebuild(store, ProjectKit.Config(_storage)).RunAsync(TimeProvider.System.GetUtcNow(), null, CancellationToken.None);
            Assert.Equal(report.Before, report.After);
            Assert.Equal(2, report.Events);

            // The operator fixes the event (here: its stored JSON) and retries it.
            await ExecuteSqlAsync($"UPDATE canonical_events SET body = {(_storage.StartsWith("postgres:", StringComparison.Ordinal) ? "@b::jsonb" : "@b")} WHERE id = @id",
                ("b", CanonicalJson.Serialize(e)), ("id", poisonId));
            using var retry = await _server.Admin.PostAsync("/v1/project/poison/retry", null);
            Assert.Equal(1, (await retry.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("retrying").GetInt32());
            await ProjectKit.PersonAsync(_server, "/v1/people?email=fixed@example.com", _ => true);
            var after = await _server.Admin.GetFromJsonAsync<JsonElement>("/v1/project/poison");
            Assert.Empty(after.GetProperty("items").EnumerateArray());
        }
    }

    private async Task ExecuteSqlAsync(string sql, params (string Name, string Value)[] parameters)
    {
        if (_storage.StartsWith("postgres:", StringComparison.Ordinal))
        {
            await using var pg = new NpgsqlConnection(_storage["postgres:".Length..]);
            await pg.OpenAsync();
            await using var cmd = new NpgsqlCommand(sql, pg);
            foreach (var (n, v) in parameters) cmd.Parameters.AddWithValue(n, v);
            Assert.Equal(1, await cmd.ExecuteNonQueryAsync());
            return;
        }
        await using var lite = new SqliteConnection($"Data Source={_storage["sqlite:".Length..]};Pooling=False");
        await lite.OpenAsync();
        await using var lcmd = lite.CreateCommand();
        lcmd.CommandText = sql;
        foreach (var (n, v) in parameters) lcmd.Parameters.AddWithValue(n, v);
        Assert.Equal(1, await lcmd.ExecuteNonQueryAsync());
    }
}

public sealed class SqlitePoisonEventTests : PoisonEventTests
{
    protected override Task<string> StorageAsync() => Task.FromResult(TestStorage.NewSqlite());
}

public sealed class PostgresPoisonEventTests : PoisonEventTests
{
    protected override Task<string> StorageAsync() => TestStorage.NewPostgresAsync();
}
