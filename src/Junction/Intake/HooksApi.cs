namespace Junction.Intake;

public static class HooksApi
{
    public static IEndpointRouteBuilder MapHooks(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/hooks/{source}", (string source, HttpContext http, HookReceiver receiver) => receiver.ReceiveAsync(source, http));
        return app;
    }
}
