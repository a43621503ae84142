using System.Net.Http.Headers;
using System.Text.Json;
using Junction.Dispatch;
using Junction.Dispatch.Destinations;

namespace Junction.Integrations.Salesforce;

/// <summary>
/// The OAuth 2.0 client credentials flow of a Salesforce connected app
/// (help.salesforce.com: "OAuth 2.0 Client Credentials Flow for Server-to-Server Integration"):
/// <c>POST {My Domain}/services/oauth2/token</c> with grant_type=client_credentials, client_id and
/// client_secret (form-encoded, never in a shown path or log). The access token is cached until
/// Salesforce refuses it (401 INVALID_SESSION_ID); the token answer carries no lifetime.
/// </summary>
internal sealed class SalesforceSession(DestinationConfig config)
{
    // Two deliveries that both find no token may both fetch one: Salesforce hands out valid tokens to
    // each, so no lock is needed, only the last one kept.
    private volatile string? _token;

    public const string TokenPath = "/services/oauth2/token";

    /// <summary>The cached token, or a new one; <paramref name="refused"/> is a token Salesforce refused (fetched anew unless already replaced).</summary>
    public async Task<(string? Token, HttpReply? Failure)> TokenAsync(DestinationHttp call, string? refused, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        if (_token is { } cached && cached != refused) return (cached, null);
        _token = null;
        var form = new FormUrlEncodedContent(new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = config.Credentials.GetValueOrDefault(SalesforceDestination.ClientId) ?? "",
            ["client_secret"] = config.Credentials.GetValueOrDefault(SalesforceDestination.ClientSecret) ?? "",
        });
        var reply = await call.SendAsync(HttpMethod.Post, DestinationHttp.Under(config.BaseUrl, TokenPath), TokenPath, null, r =>
        {
            r.Content = form;
            r.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        }, cancellationToken);
        if (!reply.IsSuccess) return (null, reply);
        try
        {
            using var doc = JsonDocument.Parse(reply.Body);
            if (doc.RootElement.TryGetProperty("access_token", out var t) && t.GetString() is { Length: > 0 } token)
            {
                _token = token;
                return (token, null);
            }
        }
        catch (JsonException)
        {
        }
        return (null, reply with { Status = 502, Body = "the token answer has no access_token" });
    }

    /// <summary>What a refused token request means: which credential to check, from Salesforce's <c>{"error","error_description"}</c>.</summary>
    public static string TokenError(HttpReply reply)
    {
        ArgumentNullException.ThrowIfNull(reply);
        string? code = null, description = null;
        try
        {
            using var doc = JsonDocument.Parse(reply.Body);
            code = doc.RootElement.TryGetProperty("error", out var e) ? e.GetString() : null;
            description = doc.RootElement.TryGetProperty("error_description", out var d) ? d.GetString() : null;
        }
        catch (JsonException)
        {
        }
        return $"salesforce: the token request was refused ({reply.Status}{(code is null ? "" : " " + code)}{(description is null ? "" : ": " + description)}); "
            + $"check credentials.{SalesforceDestination.ClientId} and credentials.{SalesforceDestination.ClientSecret} "
            + "(a connected app with the client credentials flow enabled and a run-as user)";
    }
}
