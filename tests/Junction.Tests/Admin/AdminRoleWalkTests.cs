using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Junction.Admin;
using Junction.Config;
using Junction.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Junction.Tests.Admin;

/// <summary>
/// Every admin route, found by walking the app's endpoints (not a hand-kept list), tried with no token,
/// and with a viewer's, an operator's and an admin's: 401, 403 naming the role, or through, as the
/// route's declared role says. A route added without a role, or outside the admin group, fails here.
/// </summary>
public sealed partial class AdminRoleWalkTests
{
    public const string ViewerToken = "viewer-token-0123456789";
    public const string OperatorToken = "operator-token-0123456789";

    // Routes under /v1 that do not take the admin token: webhooks, the capture API (its own API keys), forms and the snippet.
    private static readonly string[] PublicPrefixes = ["/v1/hooks/", "/v1/events", "/v1/forms/", "/v1/snippet.js"];

    // Destructive routes that need the admin role; a new one is added here.
    private static readonly HashSet<string> AdminOnly = ["POST /v1/people/{id}/forget"];

    public static JunctionConfig RolesConfig(string storage) => JunctionServer.Config(storage) with
    {
        Admin = AdminConfig.WithRoles(
        [
            new AdminTokenEntry(ViewerToken, AdminRole.Viewer, "view-vera"),
            new AdminTokenEntry(OperatorToken, AdminRole.Operator, "ops-anna"),
            new AdminTokenEntry(JunctionServer.AdminToken, AdminRole.Admin, "root-rita"),
        ]),
    };

    private static IReadOnlyList<(string Method, string Pattern, RouteEndpoint Endpoint)> V1Endpoints(WebApplication app) =>
        [.. ((IEndpointRouteBuilder)app).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>()
            .Where(e => (e.RoutePattern.RawText ?? "").StartsWith("/v1", StringComparison.Ordinal))
            .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["*"]).Select(m => (m, e.RoutePattern.RawText!.TrimEnd('/'), e)))];

    private static AdminRole Expected(string method, string pattern) =>
        AdminOnly.Contains($"{method} {pattern}") ? AdminRole.Admin : method == "GET" ? AdminRole.Viewer : AdminRole.Operator;

    [Fact]
    public async Task EveryV1Route_IsPublicOrAdmin_AndEveryAdminRouteDeclaresTheRoleTheTableSays()
    {
        await using var server = await JunctionServer.StartAsync(RolesConfig(TestStorage.NewSqlite()));
        var endpoints = V1Endpoints(server.App);
        var admin = endpoints.Where(e => e.Endpoint.Metadata.GetMetadata<AdminEndpointMarker>() is not null).ToList();

        // Sanity: the walk found the admin API (reads, writes, and the operations log itself).
        Assert.True(admin.Count >= 28, $"found only {admin.Count} admin routes");
        Assert.Contains(admin, e => e is { Method: "GET", Pattern: "/v1/operations" });
        Assert.Contains(admin, e => e is { Method: "POST", Pattern: "/v1/destinations/{id}/pause" });

        var unguarded = endpoints.Where(e => e.Endpoint.Metadata.GetMetadata<AdminEndpointMarker>() is null
            && !PublicPrefixes.Any(p => e.Pattern.StartsWith(p, StringComparison.Ordinal) || e.Pattern == p.TrimEnd('/'))).ToList();
        Assert.True(unguarded.Count == 0, "routes under /v1 neither public nor behind the admin token: "
            + string.Join(", ", unguarded.Select(e => $"{e.Method} {e.Pattern}")));

        var wrong = admin.Select(e => (e.Method, e.Pattern, Declared: e.Endpoint.Metadata.GetMetadata<AdminRoleRequirement>()?.Role))
            .Where(e => e.Declared != Expected(e.Method, e.Pattern)).ToList();
        Assert.True(wrong.Count == 0, "admin routes whose declared role is missing or not the table's: "
            + string.Join(", ", wrong.Select(e => $"{e.Method} {e.Pattern} declares {e.Declared?.ToString() ?? "no role"}, expected {Expected(e.Method, e.Pattern)}")));
    }

    [Fact]
    public async Task EveryAdminRoute_Answers401WithoutAToken_403ToTooSmallARole_AndLetsEnoughThrough()
    {
        await using var server = await JunctionServer.StartAsync(RolesConfig(TestStorage.NewSqlite()));
        var admin = V1Endpoints(server.App).Where(e => e.Endpoint.Metadata.GetMetadata<AdminEndpointMarker>() is not null).ToList();
        Assert.NotEmpty(admin);
        var tokens = new (string? Token, AdminRole? Role)[]
        {
            (null, null), ("unknown-token-0123456789", null), (ViewerToken, AdminRole.Viewer), (OperatorToken, AdminRole.Operator),
            (JunctionServer.AdminToken, AdminRole.Admin),
        };
        var failures = new List<string>();
        foreach (var (method, pattern, endpoint) in admin)
        {
            var need = Expected(method, pattern);
            var path = RouteParameter().Replace(pattern, "1");
            foreach (var (token, role) in tokens)
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), path);
                if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                using var response = await server.Client.SendAsync(request);
                var who = role is { } r ? AdminRoles.Name(r) : token is null ? "no token" : "an unknown token";
                var status = response.StatusCode;
                if (role is null)
                {
                    if (status != HttpStatusCode.Unauthorized) failures.Add($"{method} {path} with {who}: {(int)status}, expected 401");
                }
                else if (!AdminRoles.Allows(role.Value, need))
                {
                    var body = await response.Content.ReadAsStringAsync();
                    var sentence = $"needs the {AdminRoles.Name(need)} role; this token is {AdminRoles.WithArticle(role.Value)}";
                    if (status != HttpStatusCode.Forbidden || response.Content.Headers.ContentType?.MediaType != "application/problem+json"
                        || !body.Contains(sentence, StringComparison.Ordinal))
                    {
                        failures.Add($"{method} {path} as {who}: {(int)status} {body}, expected a 403 problem saying '{sentence}'");
                    }
                }
                else if (status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
                {
                    failures.Add($"{method} {path} as {who}: {(int)status}, expected the route to run");
                }
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task Forbidden_IsAProblemNamingTheRoleNeededAndTheTokensRole_AndChangesNothing()
    {
        await using var server = await JunctionServer.StartAsync(RolesConfig(TestStorage.NewSqlite()));
        using var viewer = new HttpClient { BaseAddress = server.Client.BaseAddress };
        viewer.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ViewerToken);

        using var response = await viewer.PostAsync("/v1/quarantine/retry", new StringContent("", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("POST /v1/quarantine/retry needs the operator role; this token is a viewer.", problem.GetProperty("detail").GetString());
        Assert.Equal("operator", problem.GetProperty("needed_role").GetString());
        Assert.Equal("viewer", problem.GetProperty("role").GetString());
        Assert.DoesNotContain(ViewerToken, problem.ToString(), StringComparison.Ordinal);
        // A refused call is not an operation.
        var log = await viewer.GetFromJsonAsync<JsonElement>("/v1/operations");
        Assert.Equal(0, log.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public void Identify_NamesTheTokensHolderAndRole_AndNullForAnUnknownToken()
    {
        var auth = new AdminAuth(RolesConfig("sqlite::memory:"));

        Assert.Equal(new AdminIdentity("ops-anna", AdminRole.Operator), auth.Identify(OperatorToken));
        Assert.Equal(new AdminIdentity("view-vera", AdminRole.Viewer), auth.Identify(ViewerToken));
        Assert.Equal(new AdminIdentity("root-rita", AdminRole.Admin), auth.Identify(JunctionServer.AdminToken));
        Assert.Null(auth.Identify(OperatorToken + "x"));
        Assert.Null(auth.Identify(""));
        Assert.True(AdminRoles.Allows(AdminRole.Admin, AdminRole.Operator));
        Assert.True(AdminRoles.Allows(AdminRole.Operator, AdminRole.Operator));
        Assert.False(AdminRoles.Allows(AdminRole.Viewer, AdminRole.Operator));
        Assert.False(AdminRoles.Allows(AdminRole.Operator, AdminRole.Admin));
    }

    [Fact]
    public async Task BareStringTokens_AreAdmins_SoTodaysConfigsKeepEveryRight()
    {
        await using var server = await JunctionServer.StartAsync(JunctionServer.Config(TestStorage.NewSqlite()));

        using var retry = await server.Admin.PostAsync("/v1/quarantine/retry", new StringContent("", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        var log = await server.Admin.GetFromJsonAsync<JsonElement>("/v1/operations");
        var entry = Assert.Single(log.GetProperty("items").EnumerateArray());
        Assert.Equal("token-1", entry.GetProperty("actor").GetString());
        Assert.Equal("admin", entry.GetProperty("role").GetString());
    }

    [Fact]
    public async Task ARouteThatDeclaresNoRole_IsClosedToAllButAdmins()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(RolesConfig("sqlite::memory:"));
        builder.Services.AddSingleton<AdminAuth>();
        await using var app = builder.Build();
        AdminAuth.RequireAdmin(app.MapGroup("/v1/undeclared")).MapPost("", () => "ran");
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var client = new HttpClient { BaseAddress = new Uri(address) };

        async Task<HttpStatusCode> PostAs(string token)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/undeclared");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await client.SendAsync(request);
            return response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.Forbidden, await PostAs(OperatorToken));
        Assert.Equal(HttpStatusCode.OK, await PostAs(JunctionServer.AdminToken));
        await app.StopAsync();
    }

    [GeneratedRegex(@"\{[^}]+\}")]
    private static partial Regex RouteParameter();
}
