using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Junction.Dispatch;
using Junction.Tests.Dispatch.Engine;
using Junction.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Junction.Tests.Admin;

/// <summary>
/// The dashboard signs in with the same tokens, names and roles as the admin API: a viewer's session
/// cannot act, an operator's can, and its action is in the operations log under the token's name.
/// Plain HTTP with cookies and the forms' antiforgery tokens (the browser test covers the pages).
/// </summary>
public sealed partial class DashboardRolesTests
{
    private static async Task<HttpClient> SignInAsync(Uri baseAddress, string token)
    {
        var client = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = baseAddress };
        var form = await client.GetStringAsync("/signin");
        using var signIn = await client.PostAsync("/signin", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["token"] = token, ["returnUrl"] = "/", ["__RequestVerificationToken"] = Antiforgery(form),
        }));
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        Assert.Equal("/", signIn.Headers.Location?.OriginalString);
        return client;
    }

    private static async Task<HttpResponseMessage> PauseAsync(HttpClient session, string reason)
    {
        var page = await session.GetStringAsync("/destinations");
        return await session.PostAsync("/ui/destinations/kit-main/pause", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["reason"] = reason, ["__RequestVerificationToken"] = Antiforgery(page),
        }));
    }

    private static string Antiforgery(string html) => AntiforgeryInput().Match(html) is { Success: true } m ? m.Groups[1].Value
        : throw new InvalidOperationException("no antiforgery token in the page");

    [Fact]
    public async Task ViewerSession_CannotPause_OperatorSession_Can_AndIsLoggedUnderItsTokensName()
    {
        var config = AdminRoleWalkTests.RolesConfig(TestStorage.NewSqlite()) with
        {
            Destinations = new Dictionary<string, DestinationConfig>(StringComparer.Ordinal) { ["kit-main"] = Drafts.Destination("kit-main") },
        };
        await using var server = await JunctionServer.StartAsync(config);

        using (var viewer = await SignInAsync(server.Client.BaseAddress!, AdminRoleWalkTests.ViewerToken))
        using (var refused = await PauseAsync(viewer, "should not happen"))
        {
            Assert.Equal(HttpStatusCode.Redirect, refused.StatusCode);
            Assert.Equal("/denied?need=operator", refused.Headers.Location?.OriginalString);
        }
        var destinations = await server.Admin.GetFromJsonAsync<JsonElement>("/v1/destinations");
        Assert.NotEqual("paused", destinations.GetProperty("items")[0].GetProperty("state").GetString());

        using (var op = await SignInAsync(server.Client.BaseAddress!, AdminRoleWalkTests.OperatorToken))
        using (var paused = await PauseAsync(op, "vendor outage"))
        {
            Assert.Equal(HttpStatusCode.Redirect, paused.StatusCode);
            Assert.StartsWith("/destinations?done=", paused.Headers.Location?.OriginalString, StringComparison.Ordinal);
        }

        var entry = Assert.Single((await server.Admin.GetFromJsonAsync<JsonElement>("/v1/operations")).GetProperty("items").EnumerateArray());
        Assert.Equal(("ops-anna", "operator", "destinations.pause", "kit-main"),
            (entry.GetProperty("actor").GetString(), entry.GetProperty("role").GetString(), entry.GetProperty("action").GetString(), entry.GetProperty("target").GetString()));
        Assert.Equal("dashboard", entry.GetProperty("detail").GetProperty("via").GetString());
        Assert.Equal("vendor outage", entry.GetProperty("detail").GetProperty("reason").GetString());
    }

    [Fact]
    public async Task EveryPage_AndEveryAction_ForEachRole_SignedOutGoesToSignIn_ViewerReadsButCannotAct()
    {
        var config = AdminRoleWalkTests.RolesConfig(TestStorage.NewSqlite()) with
        {
            Destinations = new Dictionary<string, DestinationConfig>(StringComparer.Ordinal) { ["kit-main"] = Drafts.Destination("kit-main") },
        };
        await using var server = await JunctionServer.StartAsync(config);
        var endpoints = server.App.Services.GetRequiredService<Microsoft.AspNetCore.Routing.EndpointDataSource>().Endpoints
            .OfType<Microsoft.AspNetCore.Routing.RouteEndpoint>().ToList();
        // Every page the dashboard routes (Razor components) and every action it posts to (/ui/…), found, not listed by hand.
        var pages = endpoints.Where(e => e.Metadata.GetMetadata<Microsoft.AspNetCore.Components.Endpoints.ComponentTypeMetadata>() is not null)
            .Select(e => e.RoutePattern.RawText!).Where(p => !p.Contains('{', StringComparison.Ordinal) && p is not ("/signin" or "/denied")).Distinct().ToList();
        var actions = endpoints.Where(e => e.RoutePattern.RawText!.StartsWith("/ui/", StringComparison.Ordinal))
            .Select(e => e.RoutePattern.RawText!.Replace("{id}", "kit-main", StringComparison.Ordinal)).Distinct().ToList();
        Assert.Contains("/", pages);
        Assert.Contains("/incidents", pages);
        Assert.True(actions.Count >= 8, string.Join(", ", actions));

        using var anonymous = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = server.Client.BaseAddress };
        foreach (var page in pages)
        {
            using var r = await anonymous.GetAsync(page);
            Assert.True(r.StatusCode == HttpStatusCode.Redirect && r.Headers.Location!.OriginalString.Contains("/signin", StringComparison.Ordinal), $"{page} without a session: {(int)r.StatusCode}");
        }
        using var viewer = await SignInAsync(server.Client.BaseAddress!, AdminRoleWalkTests.ViewerToken);
        foreach (var page in pages)
        {
            using var r = await viewer.GetAsync(page);
            Assert.True(r.StatusCode == HttpStatusCode.OK, $"{page} as a viewer: {(int)r.StatusCode}");
        }
        var token = Antiforgery(await viewer.GetStringAsync("/destinations"));
        foreach (var action in actions)
        {
            using var r = await viewer.PostAsync(action, new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = token, ["note"] = "n", ["reason"] = "r" }));
            Assert.True(r.Headers.Location?.OriginalString == "/denied?need=operator", $"{action} as a viewer: {(int)r.StatusCode} {r.Headers.Location}");
        }
        // Without the form's antiforgery token even an operator's action is refused.
        using var op = await SignInAsync(server.Client.BaseAddress!, AdminRoleWalkTests.OperatorToken);
        using (var forged = await op.PostAsync("/ui/destinations/kit-main/pause", new FormUrlEncodedContent(new Dictionary<string, string> { ["reason"] = "csrf" })))
        {
            Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        }
        Assert.Empty((await server.Admin.GetFromJsonAsync<JsonElement>("/v1/operations")).GetProperty("items").EnumerateArray());
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryInput();
}
