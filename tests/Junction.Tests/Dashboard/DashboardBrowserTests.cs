using System.Net.Http.Json;
using System.Text.Json;
using Junction.Tests.Capture;
using Junction.Tests.Dispatch.Scenarios;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Junction.Tests.Dispatch.Scenarios.ScenarioRig;
using static Junction.Tests.Project.ProjectKit;

namespace Junction.Tests.Dashboard;

/// <summary>
/// The dashboard in Debian's chromium through real sign-in, against a real Junction whose
/// destinations are the stateful fakes: every page, a search, a pause and a resume, a replay of a
/// dead letter, an audit started from the page, sign-out. With JUNCTION_SCREENSHOTS set to a folder
/// it saves the main pages there (scripts/screenshots.sh regenerates docs/screenshots/).
/// </summary>
[Collection(nameof(BrowserAlone))]
public sealed class DashboardBrowserTests
{
    [Fact]
    public async Task SignIn_EveryPage_Search_PauseResume_Replay_Audit_SignOut()
    {
        var chromium = SnippetBrowserTests.ChromiumPath();
        const string Viewer = "viewer-token-0123456789abcdef";
        // Figures computed on every view here (the warmer's minute-old copies would miss what the test just posted).
        await using var rig = await ScenarioRig.StartAsync(Support.TestStorage.NewSqlite(), services: s => s.AddSingleton(new Junction.Dashboard.DashboardOptions { MaxAge = TimeSpan.Zero }), configure: c => c with
        {
            Admin = Junction.Config.AdminConfig.WithRoles(
            [
                new(Support.JunctionServer.AdminToken, Junction.Admin.AdminRole.Admin, "ops-anna"),
                new(Viewer, Junction.Admin.AdminRole.Viewer, "viewer-vic"),
            ]),
            // A failed smoke run opens a smoke_failing incident whose runbook pauses the outgoing webhook.
            Alerts = c.Alerts with
            {
                Runbooks = new Dictionary<string, Junction.Alerts.Runbook>(StringComparer.Ordinal)
                {
                    [Junction.Alerts.AlertRules.SmokeFailing] = new() { Rollback = new Junction.Alerts.RunbookAction(Junction.Alerts.RunbookAction.Pause, HookId), Fallback = "Grant access by hand from the person page" },
                },
            },
        });
        var now = TimeProvider.System.GetUtcNow();
        await rig.PostAsync(OptIn("ada@example.com", Observability.Iso.Utc(now.AddHours(-3)), utm: "ig"));
        await rig.PostAsync(Paid("ord_1", "ada@example.com", Observability.Iso.Utc(now.AddHours(-2))));
        rig.Hook.RespondNext(1, 400); // the outgoing webhook refuses the next event for good: a dead letter to replay
        await rig.PostAsync(Paid("ord_2", "bob@example.com", Observability.Iso.Utc(now.AddHours(-1)), amount: 9900));
        await rig.WaitForDeliveriesAsync($"destination={HookId}&state=dead", d => d.Count == 1);
        await rig.SettledAsync();
        var junction = rig.Server.Client.BaseAddress!;
        string Url(string path) => new Uri(junction, path).ToString();

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await SnippetBrowserTests.LaunchAsync(playwright, chromium);
        await using var context = await browser.NewContextAsync(new() { ViewportSize = new() { Width = 1360, Height = 900 } });
        context.SetDefaultTimeout(45_000);
        var page = await context.NewPageAsync();

        // Nothing before sign-in: the overview sends to the sign-in form, and a wrong token is refused.
        await page.GotoAsync(Url("/"));
        Assert.StartsWith(Url("/signin"), page.Url, StringComparison.Ordinal);
        Assert.DoesNotContain("ada@example.com", await page.ContentAsync(), StringComparison.Ordinal);
        await page.FillAsync("#token", "not-a-token-at-all-0123");
        await page.ClickAsync("#signin");
        await page.Locator(".error").WaitForAsync();
        await page.FillAsync("#token", Support.JunctionServer.AdminToken);
        await page.ClickAsync("#signin");
        await page.WaitForURLAsync(Url("/"));
        var cookie = (await context.CookiesAsync()).Single(c => c.Name == "junction-session");
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);

        // Overview: the period's orders (Ada's and Bob's), revenue, and the charts drawn.
        await page.GotoAsync(Url("/?period=24h"));
        Assert.Equal("2", (await page.Locator(".kpi").Nth(0).Locator(".value").TextContentAsync())?.Trim());
        Assert.Contains("148.00 USD", await page.Locator(".kpi").Nth(1).Locator(".value").TextContentAsync(), StringComparison.Ordinal);
        await page.WaitForFunctionAsync("() => document.querySelectorAll('canvas[data-drawn]').length === 3");
        await Shot(page, "overview");

        // Revenue by first touch: Ada's purchase under ig.
        await page.GotoAsync(Url("/revenue"));
        Assert.Contains("ig", await page.Locator("#revenue").TextContentAsync(), StringComparison.Ordinal);
        await Shot(page, "revenue");

        // Search by email lands on the person; the trace and the deliveries are there.
        await page.GotoAsync(Url("/people"));
        await page.FillAsync("#q", "ada@example.com");
        await page.PressAsync("#q", "Enter");
        await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex("/people/p_"));
        Assert.Contains("ord_1", await page.Locator("#orders").TextContentAsync(), StringComparison.Ordinal);
        Assert.True(await page.Locator("#timeline tbody tr").CountAsync() >= 2);
        Assert.Contains("succeeded", await page.Locator("#deliveries").TextContentAsync(), StringComparison.Ordinal);
        await Shot(page, "person");

        // Pause Kit with a reason, then resume it.
        await page.GotoAsync(Url("/destinations"));
        await page.FillAsync($"#{KitId} input[name=reason]", "list migration");
        await page.ClickAsync($"#pause-{KitId}");
        await page.Locator("#notice").WaitForAsync();
        Assert.Contains("paused", await page.Locator($"tr#{KitId}").TextContentAsync(), StringComparison.Ordinal);
        var destinations = await rig.Server.Admin.GetFromJsonAsync<JsonElement>("/v1/destinations");
        Assert.Contains(destinations.GetProperty("items").EnumerateArray(), d => d.GetProperty("id").GetString() == KitId && d.GetProperty("state").GetString() == "paused");
        await page.ClickAsync($"#resume-{KitId}");
        await page.Locator("#notice").WaitForAsync();
        Assert.Contains("resumed", await page.Locator("#notice").TextContentAsync(), StringComparison.Ordinal);

        // A smoke run failed: the alert rules open a smoke_failing incident.
        var store = (Junction.Storage.RelationalStore)rig.Server.App.Services.GetRequiredService<Junction.Storage.IJunctionStore>();
        var failedAt = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
        await store.InsertSmokeRunAsync("smk_browser", "test", "synthetic", "app", failedAt, CancellationToken.None);
        await store.UpdateSmokeRunAsync("smk_browser", "[]", null, "failed", "paid_tag_and_enrollment", failedAt, CancellationToken.None);
        // Evaluated here (the node's own evaluator also runs beside it, elected on its minute): until the incident is listed.
        var evaluator = rig.Server.App.Services.GetRequiredService<Junction.Alerts.AlertEvaluator>();
        var listed = 0;
        for (var i = 0; i < 40 && listed == 0; i++)
        {
            await evaluator.EvaluateAsync(CancellationToken.None);
            var incidents = await rig.Server.Admin.GetFromJsonAsync<JsonElement>("/v1/incidents");
            listed = incidents.GetProperty("items").EnumerateArray().Count(x => x.GetProperty("rule").GetString() == Junction.Alerts.AlertRules.SmokeFailing);
            if (listed == 0) await Task.Delay(250);
        }
        Assert.True(listed == 1, $"smoke_failing incidents listed: {listed}; smoke runs: {await rig.Server.Admin.GetStringAsync("/v1/smoke")}");

        // Replay the dead letter: it is delivered this time.
        var dead = Assert.Single(await rig.DeliveriesAsync($"destination={HookId}&state=dead"));
        await Shot(page, "destinations");
        await page.ClickAsync($"#replay-{dead.GetProperty("id").GetInt64()}");
        await page.Locator("#notice").WaitForAsync();
        Assert.Contains("1 dead letter replayed", await page.Locator("#notice").TextContentAsync(), StringComparison.Ordinal);
        await rig.WaitForDeliveriesAsync($"destination={HookId}&state=dead", d => d.Count == 0);

        // Sources and audits; an audit started from the page shows up.
        await page.GotoAsync(Url("/sources"));
        Assert.Contains("app", await page.Locator("#sources").TextContentAsync(), StringComparison.Ordinal);
        await page.GotoAsync(Url("/audits"));
        await page.ClickAsync("#run-audit");
        await page.Locator("#notice").WaitForAsync();
        for (var i = 0; i < 100 && await page.Locator("#points").CountAsync() == 0; i++)
        {
            await Task.Delay(200);
            await page.GotoAsync(Url("/audits"));
        }
        Assert.Equal(5, await page.Locator("#points tbody tr").CountAsync());
        await Shot(page, "audits");

        // The incident's runbook rollback pauses the webhook with one click; then it is resolved with a note.
        // An incident with revenue at risk (kept as currency → minor units) shows it in major units; once, that map broke this page.
        await store.InsertIncidentAsync(new Junction.Storage.StoredIncident("inc_browser_revenue", Junction.Alerts.AlertRules.PaymentFailures, "all", "open", "critical",
            "3 of 10 payment attempts failed", failedAt, failedAt, null, null, null, "{\"USD\":9900,\"EUR\":1250}", "[]", "{}"), [], CancellationToken.None);
        var incidentsPage = await page.GotoAsync(Url("/incidents"));
        if (await page.Locator("#incidents tbody tr").CountAsync() == 0)
        {
            var content = await page.ContentAsync();
            Assert.Fail($"the incidents page at {page.Url} ({incidentsPage?.Status}) lists none; /v1/incidents: {await rig.Server.Admin.GetStringAsync("/v1/incidents")}; page: {content[..Math.Min(content.Length, 3000)]}");
        }
        Assert.Contains("12.50 EUR · 99.00 USD", await page.Locator("#inc_browser_revenue").TextContentAsync(), StringComparison.Ordinal);
        var incident = page.Locator("#incidents tbody tr", new() { HasText = "smoke_failing" }).First;
        Assert.Contains("smoke_failing", await incident.TextContentAsync(), StringComparison.Ordinal);
        await incident.Locator("button:has-text('Run rollback')").ClickAsync();
        await page.Locator("#notice").WaitForAsync();
        var paused = await rig.Server.Admin.GetFromJsonAsync<JsonElement>("/v1/destinations");
        Assert.Contains(paused.GetProperty("items").EnumerateArray(), d => d.GetProperty("id").GetString() == HookId && d.GetProperty("state").GetString() == "paused");
        await Shot(page, "incidents");
        await page.Locator("#incidents tbody tr", new() { HasText = "smoke_failing" }).First.Locator("input[name=note]").FillAsync("receiver fixed; replayed");
        await page.Locator("#incidents tbody tr", new() { HasText = "smoke_failing" }).First.Locator("button:has-text('Resolve')").ClickAsync();
        await page.Locator("#notice").WaitForAsync();
        Assert.Contains("resolved", await page.Locator("#incidents").TextContentAsync(), StringComparison.Ordinal);

        // Every action is in the operations log under the session's name.
        await page.GotoAsync(Url("/operations"));
        var log = await page.Locator("#operations").TextContentAsync();
        Assert.Contains("ops-anna", log, StringComparison.Ordinal);
        Assert.Contains("destinations.pause", log, StringComparison.Ordinal);
        Assert.Contains("incidents.rollback", log, StringComparison.Ordinal);
        Assert.DoesNotContain(Support.JunctionServer.AdminToken, await page.ContentAsync(), StringComparison.Ordinal);

        // Sign out: the session is gone.
        await page.ClickAsync("text=Sign out");
        await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex("/signin"));
        await page.GotoAsync(Url("/people"));
        Assert.StartsWith(Url("/signin"), page.Url, StringComparison.Ordinal);

        // A viewer reads every page but cannot act: a pause sends it to the refusal naming the role, and nothing is paused.
        await page.FillAsync("#token", Viewer);
        await page.ClickAsync("#signin");
        await page.WaitForURLAsync(Url("/people"));
        await page.GotoAsync(Url("/destinations"));
        await page.FillAsync($"#{KitId} input[name=reason]", "should not happen");
        await page.ClickAsync($"#pause-{KitId}");
        await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex("/denied"));
        Assert.Contains("operator", await page.Locator(".error").TextContentAsync(), StringComparison.Ordinal);
        var still = await rig.Server.Admin.GetFromJsonAsync<JsonElement>("/v1/destinations");
        Assert.Contains(still.GetProperty("items").EnumerateArray(), d => d.GetProperty("id").GetString() == KitId && d.GetProperty("state").GetString() != "paused");
    }

    private static async Task Shot(IPage page, string name)
    {
        if (Environment.GetEnvironmentVariable("JUNCTION_SCREENSHOTS") is not { Length: > 0 } folder) return;
        Directory.CreateDirectory(folder);
        await page.ScreenshotAsync(new() { Path = Path.Combine(folder, $"dashboard-{name}.png"), FullPage = true });
    }
}
