using Junction.Config;
using Junction.Providers;

namespace Junction.Intake;

public static class HooksApi
{
    public static IEndpointRouteBuilder MapHooks(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/hooks/{source}", (string source, HttpContext http, HookReceiver receiver) => receiver.ReceiveAsync(source, http));
        app.MapGet("/v1/hooks/{source}", (string source, HttpContext http, JunctionConfig config) => AnswerGet(source, http, config));
        return app;
    }

    /// <summary>
    /// A GET is answered only for providers that validate their URL with one (<see cref="IWebhookUrlCheck"/>);
    /// it has no side effect and stores nothing. Anything else gets the 405 a POST-only route gave before.
    /// </summary>
    private static IResult AnswerGet(string sourceId, HttpContext http, JunctionConfig config)
    {
        if (config.Sources.TryGetValue(sourceId, out var source)
            && ProviderRegistry.TryGet(source.Provider, out var provider)
            && provider is IWebhookUrlCheck check)
        {
            var reply = check.AnswerGet(source);
            return TypedResults.Text(reply.Body, reply.ContentType, System.Text.Encoding.UTF8, reply.Status);
        }
        http.Response.Headers.Allow = "POST";
        return TypedResults.StatusCode(StatusCodes.Status405MethodNotAllowed);
    }
}
