using System.Collections.Frozen;
using System.Reflection;
using System.Security.Claims;
using System.Security.Cryptography;
using Junction.Dashboard.Components;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Junction.Dashboard;

/// <summary>
/// The operator's window at <c>/</c>: server-rendered Razor components (static SSR), a sign-in with
/// an admin token that becomes a session cookie (HttpOnly, SameSite=Strict, Secure over https,
/// 8 h sliding), antiforgery on every form, assets served from the binary (no CDN). The admin API
/// keeps its bearer tokens and never accepts the cookie, so a cross-site request cannot use it.
/// </summary>
public static class DashboardHost
{
    public const string Scheme = "junction-dashboard";
    public const string RoleClaim = "junction_role";

    public static IServiceCollection AddDashboard(this IServiceCollection services)
    {
        services.AddRazorComponents();
        // Cookie keys in the store, shared by every node (StoreKeyRing); one application name so they all read them.
        services.AddDataProtection().SetApplicationName("junction");
        services.AddSingleton<IConfigureOptions<KeyManagementOptions>>(sp => new ConfigureOptions<KeyManagementOptions>(o =>
            o.XmlRepository = new StoreKeyRing(sp.GetRequiredService<Storage.IJunctionStore>(), sp.GetRequiredService<TimeProvider>())));
        services.AddCascadingAuthenticationState();
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "junction-af";
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        });
        services.AddAuthentication(Scheme).AddCookie(Scheme, o =>
        {
            o.Cookie.Name = "junction-session";
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.ExpireTimeSpan = TimeSpan.FromHours(8);
            o.SlidingExpiration = true;
            o.LoginPath = "/signin";
            o.LogoutPath = "/signout";
            o.AccessDeniedPath = "/denied";
        });
        services.AddAuthorization();
        services.TryAddSingleton(new DashboardOptions());
        services.AddSingleton<DashboardData>();
        services.AddHostedService<DashboardWarmer>();
        return services;
    }

    public static WebApplication MapDashboard(this WebApplication app)
    {
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseAntiforgery();
        app.MapGet("/assets/{*path}", Asset);
        app.MapPost("/signin", SignInAsync).DisableAntiforgery(); // checked by hand below, to answer the sign-in page instead of a bare 400
        app.MapPost("/signout", (Delegate)SignOutAsync);
        app.MapDashboardActions();
        app.MapRazorComponents<App>();
        return app;
    }

    /// <summary>Who a session is: the admin token's name and role, never the token.</summary>
    public static (string Name, string Role) Who(ClaimsPrincipal user) =>
        (user.Identity?.Name ?? "?", user.FindFirst(RoleClaim)?.Value ?? Admin.AdminRoles.Name(Admin.AdminRole.Viewer));

    private static async Task<IResult> SignInAsync(HttpContext http, [FromForm] string? token, [FromForm] string? returnUrl, DashboardAuth auth,
        Microsoft.AspNetCore.Antiforgery.IAntiforgery antiforgery)
    {
        if (!await antiforgery.IsRequestValidAsync(http)) return Results.Redirect("/signin?error=expired");
        if (token is null || auth.Identify(token) is not { } who) return Results.Redirect("/signin?error=token");
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, who.Name), new Claim(RoleClaim, who.Role)], Scheme);
        await http.SignInAsync(Scheme, new ClaimsPrincipal(identity));
        // Only a local path: an open redirect would let a link send a fresh session anywhere.
        return Results.Redirect(returnUrl is { Length: > 0 } r && r.StartsWith('/') && !r.StartsWith("//", StringComparison.Ordinal) && !r.Contains('\\') ? r : "/");
    }

    private static async Task<IResult> SignOutAsync(HttpContext http)
    {
        await http.SignOutAsync(Scheme);
        return Results.Redirect("/signin?signedout=1");
    }

    private static readonly FrozenDictionary<string, (byte[] Body, string Type, string ETag)> Assets = LoadAssets();

    private static FrozenDictionary<string, (byte[], string, string)> LoadAssets()
    {
        var assembly = Assembly.GetExecutingAssembly();
        const string Prefix = "Junction.Dashboard.assets/";
        var map = new Dictionary<string, (byte[], string, string)>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var bytes = copy.ToArray();
            var type = Path.GetExtension(name) switch { ".js" => "text/javascript", ".css" => "text/css", ".svg" => "image/svg+xml", _ => "text/plain" };
            map[name[Prefix.Length..]] = (bytes, type + "; charset=utf-8", "\"" + Convert.ToHexStringLower(SHA256.HashData(bytes))[..16] + "\"");
        }
        return map.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static IResult Asset(string path, HttpContext http)
    {
        if (!Assets.TryGetValue(path, out var asset)) return Results.NotFound();
        http.Response.Headers.ETag = asset.ETag;
        http.Response.Headers.CacheControl = "public, max-age=3600";
        if (http.Request.Headers.IfNoneMatch == asset.ETag) return Results.StatusCode(StatusCodes.Status304NotModified);
        return Results.Bytes(asset.Body, asset.Type);
    }
}

/// <summary>Turns a presented admin token into who it is (name, role); null for an unknown token. Constant time over every token.</summary>
public sealed class DashboardAuth(Admin.AdminAuth auth)
{
    // The same tokens, names and roles as the admin API (admin.tokens), so both enforce one table.
    public (string Name, string Role)? Identify(string token) =>
        token.Length > 0 && auth.Identify(token) is { } who ? (who.Name, Admin.AdminRoles.Name(who.Role)) : null;
}
