/* mingw-w64 ships <eventtoken.h>; WebView2.h includes "EventToken.h". */
#include <eventtoken.h>
