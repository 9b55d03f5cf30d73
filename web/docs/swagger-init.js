/* Swagger UI for <mount>/api/docs/: the schema is <mount>/api/schema/,
 * reached relative to this page. Nothing is loaded from another host:
 * no validator badge (validatorUrl null), no "Explore" bar. */
(function () {
    'use strict';
    var schema = new URL('../schema/', document.baseURI).href;
    var root = document.getElementById('swagger-ui');

    function failed(text) {
        var p = document.createElement('p');
        p.className = 'docs-error';
        p.setAttribute('role', 'alert');
        p.textContent = text;
        root.replaceChildren(p);
    }

    if (typeof window.SwaggerUIBundle !== 'function') {
        failed('The Swagger UI files are missing on this server ' +
               '(web/vendor/: run web/fetch-vendor.sh, then make install).');
        return;
    }
    root.replaceChildren();
    window.ui = window.SwaggerUIBundle({
        url: schema,
        domNode: root,
        deepLinking: true,
        validatorUrl: null,
        presets: [
            window.SwaggerUIBundle.presets.apis,
            window.SwaggerUIStandalonePreset
        ],
        plugins: [],
        layout: 'BaseLayout',
        docExpansion: 'list',
        defaultModelsExpandDepth: 0,
        displayRequestDuration: true,
        tryItOutEnabled: false,
        withCredentials: false,
        persistAuthorization: false,
        onComplete: function () {
            document.body.setAttribute('data-loaded', 'true');
        }
    });
}());
