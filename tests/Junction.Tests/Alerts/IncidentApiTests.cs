using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Junction.Alerts;
using Junction.Storage;
using Junction.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Junction.Tests.Alerts;

/// <summary>The incident board through the real server: list, show, ack, snooze, roll back, resolve with a note.</summary>
public abstract class IncidentApiTests : IAsyncLifetime
{
    private JunctionServer? _server;

    protected abstract Task<string> StorageAsync();

    private JunctionServer Server => _server!;

    public async ValueTask InitializeAsync()
    {
        var alerts = AlertKit.Only([AlertRules.SmokeFailing], new Dictionary<string, NotifierConfig>(StringComparer.Ordinal)) with
        {
            Runbooks = new Dictionary<string, Runbook>(StringComparer.Ordinal)
            {
                [AlertRules.SmokeFailing] = new() { Rollback = new RunbookAction(RunbookAction.Pause, "teachable-main"), Fallback = "Grant access by hand" },
            },
        };
        var config = AlertKit.ConfigWith(await StorageAsync(), alerts) with { Admin = new Junction.Config.AdminConfig([JunctionServer.AdminToken]) };
        _server = await JunctionServer.StartAsync(config);
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    private async Task<JsonElement> PostAsync(string path, object? body, HttpStatusCode expected)
    {
        using var response = body is null ? await Server.Admin.PostAsync(path, null) : await Server.Admin.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    [Fact]
    public async Task AnIncident_IsAcknowledged_Snoozed_RolledBack_AndResolvedWithANote_EachOnItsTimeline()
    {
        var store = (RelationalStore)Server.App.Services.GetRequiredService<IJunctionStore>();
        var now = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
        await store.InsertSmokeRunAsync("smk_api", "test", "synthetic", "stripe-main", now, CancellationToken.None);
        await store.UpdateSmokeRunAsync("smk_api", "[]", null, "failed", "purchase", now, CancellationToken.None);
        await Server.App.Services.GetRequiredService<AlertEvaluator>().EvaluateAsync(CancellationToken.None);

        var list = await Server.Admin.GetFromJsonAsync<JsonElement>("/v1/incidents");
        var item = Assert.Single(list.GetProperty("items").EnumerateArray());
        Assert.Equal(("smoke_failing", "smoke", "open"), (item.GetProperty("rule").GetString(), item.GetProperty("subject").GetString(), item.GetProperty("status").GetString()));
        Assert.Equal("pause: teachable-main", item.GetProperty("runbook").GetProperty("rollback").GetString());
        var id = item.GetProperty("id").GetString()!;

        var shown = await Server.Admin.GetFromJsonAsync<JsonElement>($"/v1/incidents/{id}");
        Assert.Equal("fired", shown.GetProperty("timeline")[0].GetProperty("kind").GetString());
        Assert.Equal(["smk_api"], shown.GetProperty("events_affected").EnumerateArray().Select(e => e.GetString()));

        Assert.Equal("acknowledged", (await PostAsync($"/v1/incidents/{id}/ack", new { note = "on it" }, HttpStatusCode.OK)).GetProperty("status").GetString());
        await PostAsync($"/v1/incidents/{id}/ack", null, HttpStatusCode.Conflict);
        var badSnooze = await PostAsync($"/v1/incidents/{id}/snooze", new { @for = "soon" }, HttpStatusCode.UnprocessableEntity);
        Assert.Equal("for", badSnooze.GetProperty("errors")[0].GetProperty("field").GetString());
        var snoozed = await PostAsync($"/v1/incidents/{id}/snooze", new { @for = "1h" }, HttpStatusCode.OK);
        Assert.Equal("snoozed", snoozed.GetProperty("status").GetString());
        Assert.True(snoozed.GetProperty("snoozed_until").GetString()!.Length > 0);

        var rolledBack = await PostAsync($"/v1/incidents/{id}/rollback", null, HttpStatusCode.OK);
        Assert.Equal("paused teachable-main", rolledBack.GetProperty("result").GetString());
        Assert.Contains(await store.ListDestinationControlAsync(CancellationToken.None), c => c.Destination == "teachable-main" && c.Paused);

        var noNote = await PostAsync($"/v1/incidents/{id}/resolve", new { }, HttpStatusCode.UnprocessableEntity);
        Assert.Equal("note", noNote.GetProperty("errors")[0].GetProperty("field").GetString());
        var resolved = await PostAsync($"/v1/incidents/{id}/resolve", new { note = "card processor back; resumed by hand" }, HttpStatusCode.OK);
        Assert.Equal("resolved", resolved.GetProperty("status").GetString());
        await PostAsync($"/v1/incidents/{id}/resolve", new { note = "again" }, HttpStatusCode.Conflict);
        await PostAsync($"/v1/incidents/{id}/rollback", null, HttpStatusCode.Conflict);

        var timeline = resolved.GetProperty("timeline").EnumerateArray().Select(t => (t.GetProperty("kind").GetString(), t.GetProperty("actor").GetString(), t.GetProperty("detail").GetString())).ToList();
        // The actor is the admin token's name (token-1 when unnamed), never the token.
        Assert.Contains(("ack", "token-1", "acknowledged: on it"), timeline);
        Assert.Contains(("action", "token-1", "rollback pause: teachable-main: paused teachable-main"), timeline);
        Assert.Contains(("resolve", "token-1", "resolved: card processor back; resumed by hand"), timeline);
        Assert.Contains(timeline, t => t.Item1 == "snooze" && t.Item2 == "token-1");

        var open = await Server.Admin.GetFromJsonAsync<JsonElement>("/v1/incidents?status=open");
        Assert.Empty(open.GetProperty("items").EnumerateArray());
        using var missing = await Server.Admin.GetAsync("/v1/incidents/inc_nope");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using var anonymous = await Server.Client.GetAsync("/v1/incidents");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    [Fact]
    public async Task Rollback_WithoutOneInTheRunbook_IsAConflictThatSaysWhatToAdd()
    {
        var store = (RelationalStore)Server.App.Services.GetRequiredService<IJunctionStore>();
        var now = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
        await store.InsertIncidentAsync(new StoredIncident("inc_norunbook", AlertRules.DlqGrowing, "kit", IncidentStatuses.Open, "warning", "dead letters",
            now, now, null, null, null, "{}", "[]", IncidentView.RunbookJson(null, [])), [new TimelineWrite("fired", null, "dead letters")], CancellationToken.None);
        var problem = await PostAsync("/v1/incidents/inc_norunbook/rollback", null, HttpStatusCode.Conflict);
        Assert.Contains("runbooks.dlq_growing.rollback", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }
}

public sealed class SqliteIncidentApiTests : IncidentApiTests
{
    protected override Task<string> StorageAsync() => Task.FromResult(TestStorage.NewSqlite());
}

public sealed class PostgresIncidentApiTests : IncidentApiTests
{
    protected override Task<string> StorageAsync() => TestStorage.NewPostgresAsync();
}
