using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Junction.Admin;
using Junction.Config;
using Junction.Dispatch;
using Junction.Project;
using Junction.Storage;
using Junction.Tests.Dispatch.Scenarios;
using Junction.Tests.Project;
using Microsoft.Extensions.DependencyInjection;
using Junction.Tests.Support;
using static Junction.Tests.Dispatch.Scenarios.ScenarioRig;

namespace Junction.Tests.Erasure;

/// <summary>
/// R8.4 through a real Junction with Kit, Mailchimp and Teachable fakes: forget answers by role,
/// removes the person from the store (every text column of every table scanned for the address),
/// asks each destination to delete the contact as a tracked delivery, keeps the order anonymized,
/// flags the address when it comes back, and leaves a rebuild identical.
/// </summary>
public abstract class ForgetScenarioTests
{
    private const string Gone = "gone.person@example.com";
    private const string Stays = "stays@example.com";

    protected abstract Task<string> NewStorageAsync();

    private static JunctionConfig WithRoles(JunctionConfig config) => config with
    {
        Admin = AdminConfig.WithRoles(
        [
            new AdminTokenEntry(Admin.AdminRoleWalkTests.ViewerToken, AdminRole.Viewer, "view-vera"),
            new AdminTokenEntry(Admin.AdminRoleWalkTests.OperatorToken, AdminRole.Operator, "ops-anna"),
            new AdminTokenEntry(JunctionServer.AdminToken, AdminRole.Admin, "root-rita"),
        ]),
    };

    private static DestinationConfig KitFields(DestinationConfig d) => d.Id == KitId
        ? d with { Fields = new Dictionary<string, string>(StringComparer.Ordinal) { ["buyer_status"] = "buyer_status", ["ltv_usd"] = "ltv" } }
        : d;

    // The forgotten person comes with a name, a phone and a customer id; the other person with an address only.
    private static string Paid(string orderId, string email, string at) =>
        $$$"""
        {"type":"order.paid","occurred_at":"{{{at}}}","subject":{"email":"{{{email}}}"{{{(email == Gone ? ",\"name\":\"Gwendolyn Forgetmenot\",\"phone\":\"+14155550123\",\"customer_id\":\"cus_gwen42\"" : "")}}}},
         "order":{"order_id":"{{{orderId}}}","amount":4900,"currency":"usd","items":[{"sku":"course-pro","quantity":1,"amount":4900}]}}
        """;

    private static string OptIn(string email, string at) =>
        $$$"""
        {"type":"optin","id":"signup-{{{email}}}","occurred_at":"{{{at}}}","subject":{"email":"{{{email}}}"{{{(email == Gone ? ",\"name\":\"Gwendolyn Forgetmenot\",\"anonymous_id\":\"anon_gwen42\"" : "")}}}},
         "consent":[{"channel":"email","granted":true}],"attribution":{"utm_source":"ig","landing_page":"https://x.example/?e={{{email}}}"}}
        """;

    private static async Task<HttpResponseMessage> ForgetAs(ScenarioRig rig, string token, string personId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/people/{personId}/forget") { Content = new StringContent("", Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await rig.Server.Client.SendAsync(request);
    }

    [Fact]
    public async Task Forget_ByAdminOnly_RemovesThePersonEverywhereLocally_DeletesAtEachStateDestination_AndKeepsTheOrderAnonymized()
    {
        var storage = await NewStorageAsync();
        await using var rig = await StartAsync(storage, destination: KitFields, configure: WithRoles);
        await rig.PostAsync(OptIn(Gone, "2026-11-20T10:00:00Z"));
        await rig.PostAsync(Paid("ord_gone", Gone, "2026-11-20T11:00:00Z"));
        await rig.PostAsync(Paid("ord_stays", Stays, "2026-11-20T12:00:00Z"));
        var person = await ProjectKit.PersonAsync(rig.Server, $"/v1/people?email={Gone}", p => ProjectKit.Has(p, "course-pro", "active"));
        var id = person.GetProperty("id").GetString()!;
        await rig.EventuallyAsync(() => rig.Mailchimp.StatusOf(Gone) == "subscribed" && rig.Kit.FieldsOf(Gone).ContainsKey("buyer_status")
            && rig.Teachable.ActiveCourses(Gone).Count == 1 && rig.Teachable.ActiveCourses(Stays).Count == 1, "the first sync");
        await rig.SettledAsync();

        foreach (var token in new[] { Admin.AdminRoleWalkTests.ViewerToken, Admin.AdminRoleWalkTests.OperatorToken })
        {
            using var refused = await ForgetAs(rig, token, id);
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        }
        Assert.Equal(HttpStatusCode.OK, (await rig.Server.Admin.GetAsync($"/v1/people?email={Gone}")).StatusCode);

        using (var forgot = await ForgetAs(rig, JunctionServer.AdminToken, id))
        {
            var body = await forgot.Content.ReadAsStringAsync();
            Assert.True(forgot.StatusCode == HttpStatusCode.Accepted, body);
            var answer = JsonDocument.Parse(body).RootElement;
            Assert.Equal(id, answer.GetProperty("person_id").GetString());
            Assert.Equal([KitId, MailchimpId, TeachableId], ProjectKit.Strings(answer.GetProperty("destination_deletions")).ToList());
            Assert.True(answer.GetProperty("events_redacted").GetInt32() >= 2);
        }

        // Gone locally at once, by address and by id; the other person is untouched.
        Assert.Equal(HttpStatusCode.NotFound, (await rig.Server.Admin.GetAsync($"/v1/people?email={Gone}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await rig.Server.Admin.GetAsync($"/v1/people/{id}")).StatusCode);
        await ProjectKit.PersonAsync(rig.Server, $"/v1/people?email={Stays}", p => ProjectKit.Has(p, "course-pro", "active"));

        // The destinations delete the contact through their APIs, as deliveries.
        await rig.EventuallyAsync(() => rig.Mailchimp.StatusOf(Gone) is null, "Mailchimp's permanent delete");
        await rig.EventuallyAsync(() => rig.Kit.StateOf(Gone) == "cancelled" && rig.Kit.FieldsOf(Gone).Count == 0 && rig.Kit.FirstNameOf(Gone) is null or "",
            "Kit's unsubscribe and field wipe");
        await rig.EventuallyAsync(() => rig.Teachable.ActiveCourses(Gone).Count == 0, "Teachable's unenrollment");
        Assert.Single(rig.Teachable.ActiveCourses(Stays));
        Assert.NotNull(rig.Mailchimp.StatusOf(Stays));
        var erasures = await rig.WaitForDeliveriesAsync("state=succeeded", d => d.Count(x => x.GetProperty("kind").GetString() == DeliveryKinds.Erase) == 3);
        Assert.All(erasures.Where(x => x.GetProperty("kind").GetString() == DeliveryKinds.Erase), x => Assert.Equal(id, x.GetProperty("person_id").GetString()));
        await rig.SettledAsync();

        // Nowhere in the store: not the address, the name, the phone, the customer id or the cookie id —
        // including the sealed deletions, whose key went with the last confirmation.
        var store = (RelationalStore)rig.Server.App.Services.GetRequiredService<IJunctionStore>();
        var record = Assert.Single(await store.ListErasuresAsync(CancellationToken.None));
        Assert.Equal(id, record.PersonId);
        Assert.Equal("root-rita", record.Actor);
        for (var i = 0; i < 100 && !(await store.ListErasuresAsync(CancellationToken.None))[0].KeyShredded; i++) await Task.Delay(50);
        Assert.True((await store.ListErasuresAsync(CancellationToken.None))[0].KeyShredded);
        var hits = await StoreScan.FindAsync(storage, Gone, "gone.person%40example.com", "Forgetmenot", "Gwendolyn", "4155550123", "cus_gwen42", "anon_gwen42");
        Assert.True(hits.Count == 0, "still in the store: " + string.Join(", ", hits));
        // The money record stays, anonymized: the order with its amount, under no person.
        Assert.NotEmpty(await StoreScan.FindAsync(storage, "ord_gone"));
        var events = await rig.Server.Admin.GetStringAsync("/v1/events?limit=500");
        Assert.Contains("ord_gone", events, StringComparison.Ordinal);
        Assert.DoesNotContain(Gone, events, StringComparison.OrdinalIgnoreCase);
        foreach (var path in new[] { "/v1/operations", "/v1/deliveries?limit=500", "/v1/dlq", "/v1/raw-events?limit=500" })
        {
            var text = await rig.Server.Admin.GetStringAsync(path);
            Assert.DoesNotContain(Gone, text, StringComparison.OrdinalIgnoreCase);
        }
        var operations = await rig.Server.Admin.GetStringAsync("/v1/operations");
        Assert.Contains("people.forget", operations, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AfterForget_TheSameAddressComingBack_IsANewPerson_FlaggedInTheOperationsLog_NotTheOldOneRecreated()
    {
        await using var rig = await StartAsync(await NewStorageAsync());
        await rig.PostAsync(Paid("ord_back", Gone, "2026-11-20T11:00:00Z"));
        var id = (await ProjectKit.PersonAsync(rig.Server, $"/v1/people?email={Gone}", p => ProjectKit.Has(p, "course-pro", "active"))).GetProperty("id").GetString()!;
        using (var forgot = await rig.AdminPostAsync($"/v1/people/{id}/forget"))
        {
            Assert.True(forgot.IsSuccessStatusCode, await forgot.Content.ReadAsStringAsync());
        }
        Assert.DoesNotContain("erased_person_returned", await rig.Server.Admin.GetStringAsync("/v1/operations"), StringComparison.Ordinal);

        // A late webhook or a re-import with the same address (its own event, a different time).
        await rig.PostAsync(ScenarioRig.Unsubscribe(Gone.ToUpperInvariant(), "2026-11-23T09:00:00Z"));
        var back = await ProjectKit.PersonAsync(rig.Server, $"/v1/people?email={Gone}", _ => true);
        Assert.NotEqual(id, back.GetProperty("id").GetString());
        Assert.Empty(back.GetProperty("orders").EnumerateArray());
        var operations = await rig.Server.Admin.GetStringAsync("/v1/operations");
        Assert.Contains("erased_person_returned", operations, StringComparison.Ordinal);
        Assert.DoesNotContain(Gone, operations, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task AfterForget_ARebuildGivesTheSameStateDigest_AndForgettingAgainSaysAlreadyForgotten()
    {
        var storage = await NewStorageAsync();
        JunctionConfig config;
        await using (var rig = await StartAsync(storage))
        {
            config = rig.Server.App.Services.GetRequiredService<JunctionConfig>();
            await rig.PostAsync(OptIn(Gone, "2026-11-20T10:00:00Z"));
            await rig.PostAsync(Paid("ord_r1", Gone, "2026-11-20T11:00:00Z"));
            await rig.PostAsync(OptIn(Stays, "2026-11-20T10:30:00Z"));
            await rig.PostAsync(Paid("ord_r2", Stays, "2026-11-20T12:00:00Z"));
            await ProjectKit.PersonAsync(rig.Server, $"/v1/people?email={Stays}", p => ProjectKit.Has(p, "course-pro", "active"));
            await ProjectKit.PersonAsync(rig.Server, $"/v1/people?email={Gone}", p => ProjectKit.Has(p, "course-pro", "active"));
            var forget = rig.Server.App.Services.GetRequiredService<Junction.Erasure.ForgetService>();
            var outcome = await forget.ForgetAsync(Gone, "cli", "admin", CancellationToken.None);
            Assert.Equal(Junction.Erasure.ForgetStatus.Forgotten, outcome.Status);
            var again = await forget.ForgetAsync(Gone, "cli", "admin", CancellationToken.None);
            Assert.Equal(Junction.Erasure.ForgetStatus.AlreadyErased, again.Status);
            Assert.Equal(outcome.ErasureId, again.ErasureId);
        }

        await using var store = StoreFactory.Open(storage, TimeProvider.System);
        await store.MigrateAsync(CancellationToken.None);
        await using var lead = await store.TryLeadAsync("project", CancellationToken.None);
        Assert.NotNull(lead);
        var rebuild = new PeopleRebuild(store, config, lead);
        var before = await rebuild.CurrentDigestAsync(CancellationToken.None);
        var report = await rebuild.RunAsync(TimeProvider.System.GetUtcNow(), null, CancellationToken.None);
        Assert.Equal(before, report.After);
        Assert.True(report.Identical);
        Assert.Equal(1, report.People);
        var relational = (RelationalStore)store;
        Assert.Empty(await relational.FindPeopleAsync(Junction.Identity.IdentifierKey.Email(Gone), CancellationToken.None));
        Assert.Empty(await StoreScan.FindAsync(storage, Gone));
    }
}

public sealed class SqliteForgetScenarioTests : ForgetScenarioTests
{
    protected override Task<string> NewStorageAsync() => Task.FromResult(TestStorage.NewSqlite());
}

public sealed class PostgresForgetScenarioTests : ForgetScenarioTests
{
    protected override Task<string> NewStorageAsync() => TestStorage.NewPostgresAsync();
}
